// Live sensor values from the sniffers' second output (one message per MQTT message heard) -> one
// chart series per quantity, and the latest value of each for the tiles.
import { record } from './read';
import type { ViewMessage } from './types';

/** The live chart's series, in the order that gives each its colour. */
export const LIVE_SERIES = ['Temperature °C', 'Humidity %', 'Light %', 'Motion (100 = yes)'] as const;

/** A tile's value: as shown ("21.5 °C", "detected"), the topic it came from, when (ISO). */
export interface LiveTile {
  value: string;
  topic: string;
  at: string;
}

/** The tiles by quantity: temperature, humidity, light, motion (flow key `live`). */
export type LiveTiles = Record<string, LiveTile>;

/**
 * Reads a live message's payload ({topic, sensor, values}): temperature, humidity, light (an
 * LDR's percent, or values.light) and motion. Returns the chart points (one message per series,
 * motion as 0/100) and the tiles updated from `tiles` (not changed), or null when the payload
 * holds none of these. `at` is ms since the epoch.
 */
export function liveValues(payload: unknown, tiles: LiveTiles | null | undefined, at: number): { points: ViewMessage[]; tiles: LiveTiles } | null {
  const p = record(payload);
  const v = p.values;
  if (!v || typeof v !== 'object') return null;
  const values = v as Record<string, unknown>;
  const points: ViewMessage[] = [];
  const next: LiveTiles = { ...(tiles || {}) };
  const when = new Date(at).toISOString();
  const put = (key: string, series: (typeof LIVE_SERIES)[number], value: number, shown: string) => {
    points.push({ topic: series, payload: value });
    next[key] = { value: shown, topic: String(p.topic), at: when };
  };
  if (typeof values.temperature === 'number') put('temperature', 'Temperature °C', values.temperature, `${values.temperature} °C`);
  if (typeof values.humidity === 'number') put('humidity', 'Humidity %', values.humidity, `${values.humidity} %`);
  const light = typeof values.percent === 'number' && p.sensor === 'ldr' ? values.percent : values.light;
  if (typeof light === 'number') put('light', 'Light %', light, `${light} %`);
  if (typeof values.motion === 'boolean') put('motion', 'Motion (100 = yes)', values.motion ? 100 : 0, values.motion ? 'detected' : 'none');
  if (!points.length) return null;
  return { points, tiles: next };
}

/** One gap point per series in LIVE_SERIES order, so each series keeps its colour after a restart. */
export function liveSeriesReset(): ViewMessage[] {
  return LIVE_SERIES.map((t) => ({ topic: t, payload: null }));
}
