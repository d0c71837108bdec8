/**
 * Compressed time, for demos and end-to-end tests on a real server: calendar instants (deadlines computed
 * by the real calendar) are mapped onto the wall clock `scale` times faster, counted from `origin`. Only
 * timer durations shrink; every deadline is still computed and recorded as on the real calendar.
 * Refused in production.
 */
export interface TimeCompression {
  /** ISO instant from which calendar time and wall time are counted (the launch). */
  origin: string;
  /** How many calendar seconds pass per wall second; 1 = real time. */
  scale: number;
}

/** The wall-clock instant (epoch ms) at which a calendar instant is due. */
export function wallTimeFor(calendarMs: number, compression: TimeCompression | undefined): number {
  if (!compression) return calendarMs;
  const origin = Date.parse(compression.origin);
  return origin + (calendarMs - origin) / compression.scale;
}

/** The calendar instant (epoch ms) that a wall-clock instant stands for. */
export function calendarTimeFor(wallMs: number, compression: TimeCompression | undefined): number {
  if (!compression) return wallMs;
  const origin = Date.parse(compression.origin);
  return origin + (wallMs - origin) * compression.scale;
}
