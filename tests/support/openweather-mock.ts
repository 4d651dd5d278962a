/**
 * A local stand-in for OpenWeather's Current Weather Data API that answers in its documented
 * format: `GET /data/2.5/weather?q={city}&appid={key}&units=metric`, a full success body, and
 * OpenWeather's own error bodies for a bad key (401), an unknown city (404) and the rate limit
 * (429). Tests script what each city answers next and read back every call it received.
 */
export const OPENWEATHER_TEST_KEY = "0123456789abcdef0123456789abcdef";

export type MockAnswer =
  | { temp: number }
  | { status: number; body: string; headers?: Record<string, string> }
  /** Never answers (the client must time out). */
  | "hang";

export interface MockCall {
  city: string;
  appid: string | null;
  units: string | null;
  at: number;
}

export const openWeatherErrors = {
  unauthorized: {
    status: 401,
    body: JSON.stringify({ cod: 401, message: "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info." }),
  },
  cityNotFound: { status: 404, body: JSON.stringify({ cod: "404", message: "city not found" }) },
  rateLimited: (retryAfterS?: number) => ({
    status: 429,
    body: JSON.stringify({
      cod: 429,
      message:
        "Your account is temporary blocked due to exceeding of requests limitation of your subscription type. Please choose the proper subscription https://openweathermap.org/price",
    }),
    ...(retryAfterS === undefined ? {} : { headers: { "retry-after": String(retryAfterS) } }),
  }),
  internal: { status: 500, body: JSON.stringify({ cod: 500, message: "Internal error" }) },
  badGateway: {
    status: 502,
    body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n",
  },
};

/** The documented success body (https://openweathermap.org/current), for a city at `temp` °C. */
export function currentWeatherBody(city: string, temp: number): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    coord: { lon: 10.99, lat: 44.34 },
    weather: [{ id: 501, main: "Rain", description: "moderate rain", icon: "10d" }],
    base: "stations",
    main: { temp, feels_like: temp - 1.5, temp_min: temp - 0.8, temp_max: temp + 1.1, pressure: 1015, humidity: 64, sea_level: 1015, grnd_level: 933 },
    visibility: 10000,
    wind: { speed: 0.62, deg: 349, gust: 1.18 },
    clouds: { all: 100 },
    dt: now,
    sys: { type: 2, id: 2075663, country: "NO", sunrise: now - 20000, sunset: now + 20000 },
    timezone: 3600,
    id: 3143244,
    name: city,
    cod: 200,
  });
}

export class OpenWeatherMock {
  readonly calls: MockCall[] = [];
  /** The API key it accepts; set another to make every call a 401 (a revoked or blocked key). */
  validKey = OPENWEATHER_TEST_KEY;
  private readonly answers = new Map<string, MockAnswer>();
  private readonly server: ReturnType<typeof Bun.serve>;
  private readonly hanging = new Set<() => void>();

  constructor() {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => this.answer(req) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** What a city answers from now on (matched case-insensitively, like OpenWeather). */
  set(city: string, answer: MockAnswer): void {
    this.answers.set(city.toLowerCase(), answer);
  }

  callsFor(city: string): MockCall[] {
    return this.calls.filter((c) => c.city.toLowerCase() === city.toLowerCase());
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    await this.server.stop(true);
  }

  private answer(req: Request): Response | Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname !== "/data/2.5/weather") return new Response(JSON.stringify({ cod: "404", message: "Internal error" }), { status: 404 });
    const city = url.searchParams.get("q") ?? "";
    this.calls.push({ city, appid: url.searchParams.get("appid"), units: url.searchParams.get("units"), at: Date.now() });
    if (url.searchParams.get("appid") !== this.validKey) return json(openWeatherErrors.unauthorized);
    const answer = this.answers.get(city.toLowerCase());
    if (answer === undefined) return json(openWeatherErrors.cityNotFound);
    if (answer === "hang")
      return new Promise<Response>((resolve) => {
        const release = () => resolve(new Response("", { status: 504 }));
        this.hanging.add(release);
      });
    if ("temp" in answer) return new Response(currentWeatherBody(city, answer.temp), { headers: { "content-type": "application/json; charset=utf-8" } });
    return json(answer);
  }
}

function json(answer: { status: number; body: string; headers?: Record<string, string> }): Response {
  const type = answer.body.startsWith("<") ? "text/html" : "application/json; charset=utf-8";
  return new Response(answer.body, { status: answer.status, headers: { "content-type": type, ...answer.headers } });
}
