/**
 * How long the load generator's sessions last. A session lasts uniform(0.5, 1.5) × the mean,
 * then its charger rests and starts another. The sessions a run starts with are already under
 * way: how long each has left is drawn as it would be in a network that has run for a long time
 * (a session picked at a random moment is a long one more often: its length is drawn in
 * proportion to itself, and the moment falls uniformly within it). Drawn as uniform(0, mean)
 * instead, the first sessions all ended within one mean and the next ones from half a mean on,
 * so the rate of sessions ending rose by half towards the end of a ten-minute soak.
 */

const SHORTEST = 0.5;
const LONGEST = 1.5;

/** A new session's length, in the unit of `mean`. */
export function sessionLength(mean: number, random = Math.random): number {
  return (SHORTEST + random() * (LONGEST - SHORTEST)) * mean;
}

/** What is left of a session under way at a random moment of a long run, in the unit of `mean`. */
export function sessionLeft(mean: number, random = Math.random): number {
  // Length-biased: the density of a length d is proportional to d on [SHORTEST, LONGEST].
  const length = Math.sqrt(SHORTEST ** 2 + random() * (LONGEST ** 2 - SHORTEST ** 2)) * mean;
  return random() * length;
}
