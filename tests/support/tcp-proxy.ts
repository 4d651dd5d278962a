/**
 * A TCP forwarder between a role and a server (PostgreSQL, say) that a test can cut and restore:
 * cutting closes every connection and stops listening (new connections are refused, as when
 * the server is down); restoring listens again on the same port.
 */
import type { Socket, TCPSocketListener } from "bun";

type Side = Socket<undefined>;

export class TcpProxy {
  private listener?: TCPSocketListener<undefined>;
  /** Each socket's other end, both ways. */
  private peers = new Map<Side, Side>();
  /** What a client sent before its server connection opened. */
  private pending = new Map<Side, Uint8Array[]>();
  port = 0;

  constructor(
    private targetHost: string,
    private targetPort: number,
  ) {}

  /** Listens (on a free port the first time, then on the same one). */
  start(): void {
    const { peers, pending } = this;
    const target = { hostname: this.targetHost, port: this.targetPort };
    const close = (s: Side) => {
      const other = peers.get(s);
      peers.delete(s);
      pending.delete(s);
      if (other) {
        peers.delete(other);
        other.end();
      }
    };
    this.listener = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: this.port,
      socket: {
        open(client) {
          pending.set(client, []);
          Bun.connect<undefined>({
            ...target,
            socket: {
              open(server) {
                peers.set(client, server);
                peers.set(server, client);
                for (const chunk of pending.get(client) ?? []) server.write(chunk);
                pending.delete(client);
              },
              data: (server, chunk) => void peers.get(server)?.write(chunk),
              close,
              error: close,
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          const server = peers.get(client);
          if (server) server.write(chunk);
          else pending.get(client)?.push(new Uint8Array(chunk));
        },
        close,
        error: close,
      },
    });
    this.port = this.listener.port;
  }

  /** The server "goes down": every connection is cut and new ones are refused. */
  cut(): void {
    this.listener?.stop(true);
    this.listener = undefined;
    for (const s of [...this.peers.keys(), ...this.pending.keys()]) s.terminate();
    this.peers.clear();
    this.pending.clear();
  }

  restore(): void {
    this.start();
  }
}
