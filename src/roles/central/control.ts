/**
 * Control messages (topics.centralControl): authentication and revocation from the API,
 * temperatures from the weather office, stop/resume from operators. Each changes CP facts
 * under the CP's row lock, so it does not matter which Central instance consumes it: a city's
 * message (keyed by city) reaches one instance, which updates every CP of that city.
 */
import { and, isNull, sql } from "drizzle-orm";
import type { CityTemperatureMessage, ControlMessage, OperatorCommand } from "../../bus/control-messages.ts";
import { sameCitySql } from "../../db/city-key.ts";
import { findCityWeather } from "../../db/repos/weather.ts";
import { chargingPoints } from "../../db/schema/index.ts";
import { WEATHER_ALERT_ENDED_REASON, WEATHER_ALERT_REASON } from "../../domain/weather-policy.ts";
import { cpResource } from "../../identity/audit-resource.ts";
import { changeCp, lockCp } from "./cp-records.ts";
import type { Work } from "./work.ts";

export async function applyControl(work: Work, message: ControlMessage): Promise<void> {
  switch (message.type) {
    case "cp_authenticated":
    case "key_revoked":
      return channelChange(work, message);
    case "city_temperature":
      return cityTemperature(work, message);
    case "operator_stop":
    case "operator_resume":
      return operatorCommand(work, message);
  }
}

async function channelChange(work: Work, message: Extract<ControlMessage, { type: "cp_authenticated" | "key_revoked" }>): Promise<void> {
  const effect = await work.ctx.channel.onControl(message, work.tx);
  if (!effect.transition) return;
  const cp = await lockCp(work, message.cp_id);
  if (!cp) return;
  if (effect.transition.to === "ACTIVE")
    await changeCp(work, cp, { channel: "active", connected: true }, { reason: "authenticated", actorType: "cp", actorId: message.cp_id });
  else
    await changeCp(
      work,
      cp,
      { channel: "revoked" },
      {
        reason: effect.transition.reason,
        actorType: message.type === "key_revoked" ? message.actor_type : "system",
        actorId: message.type === "key_revoked" ? message.actor_id : null,
      },
    );
}

/**
 * Only the CPs whose state the alert changes now are touched: idle ones in an alert, out of
 * service ones when it ends. A supplying CP finishes its session and then reads the city's
 * alert when it becomes available again; so do stopped, broken or disconnected ones.
 */
async function cityTemperature(work: Work, m: CityTemperatureMessage): Promise<void> {
  const affected = await work.tx
    .select({ cpId: chargingPoints.cpId })
    .from(chargingPoints)
    .where(
      and(
        isNull(chargingPoints.deregisteredAt),
        sameCitySql(chargingPoints.location, m.city),
        sql`${chargingPoints.status} = ${m.alert ? "ACTIVE" : "OUT_OF_SERVICE"}`,
      ),
    )
    .orderBy(chargingPoints.cpId);
  if (affected.length === 0) return;
  // The temperature is not on the bus (charging-adjacent data travels sealed or not at all): the API stored it.
  const stored = await findCityWeather(work.tx, m.city);
  const where = stored ? `${m.city}: ${stored.temperatureC} °C` : m.city;
  for (const { cpId } of affected) {
    const cp = await lockCp(work, cpId);
    if (!cp) continue;
    await changeCp(
      work,
      cp,
      {},
      {
        reason: m.alert ? `${WEATHER_ALERT_REASON} (${where})` : `${WEATHER_ALERT_ENDED_REASON} (${where})`,
        actorType: "service",
        actorId: "weather",
        weatherAlert: m.alert,
      },
    );
  }
}

async function operatorCommand(work: Work, m: OperatorCommand): Promise<void> {
  const stop = m.type === "operator_stop";
  const cp = await lockCp(work, m.cp_id);
  const entry = {
    eventType: "operator",
    actorType: "operator",
    actorId: m.actor_id,
    resource: cpResource(m.cp_id),
    action: stop ? "stop_cp" : "resume_cp",
  } as const;
  if (!cp) {
    work.audit({ ...entry, outcome: "failure", reason: "no such charging point" });
    return;
  }
  work.audit({ ...entry, outcome: "success", reason: m.reason });
  await changeCp(
    work,
    cp,
    { operatorStopped: stop },
    { reason: m.reason || (stop ? "stopped by the operator" : "resumed by the operator"), actorType: "operator", actorId: m.actor_id },
  );
}
