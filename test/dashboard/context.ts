// An in-memory stand-in for what the node mqttsec-dashboard-view gives a view: a flow context that
// stores copies (as a context store on disk would, so a view that forgets to save loses its
// change), a clock the test moves, numbered ids, timers the test fires, and a record of what was
// sent later and answered directly.
import { VIEWS, type LabControls, type ViewContext, type ViewMessage, type ViewName, type ViewOutputs } from '../../lib/dashboard';

export const T0 = Date.parse('2026-11-30T10:00:00.000Z');

export interface TestContext extends ViewContext {
  store: Map<string, unknown>;
  /** What labControls() answers: none (outside `npm start`'s lab) unless a test sets one. */
  lab: LabControls | undefined;
  /** Moves the clock; fires the timers that fall due, in order. */
  advance(ms: number): void;
  sent: ViewOutputs[];
  responded: Array<{ res: unknown; status: number; headers: Record<string, string>; body: unknown }>;
  pendingTimers(): number;
  /** Runs a view on msg. */
  run(view: ViewName, msg?: ViewMessage): ViewOutputs | null;
}

const copy = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

export function testContext(env: Record<string, string> = {}): TestContext {
  const store = new Map<string, unknown>();
  const globalStore = new Map<string, unknown>();
  let clock = T0;
  let ids = 0;
  const timers: Array<{ at: number; fn: () => void }> = [];
  const ctx: TestContext = {
    store,
    flow: { get: (k) => copy(store.get(k)), set: (k, v) => void store.set(k, copy(v)) },
    global: { get: (k) => copy(globalStore.get(k)), set: (k, v) => void globalStore.set(k, copy(v)) },
    env: (name) => env[name],
    now: () => clock,
    newId: () => `0123456789abc${String(++ids).padStart(3, '0')}`,
    later: (ms, fn) => void timers.push({ at: clock + ms, fn }),
    send: (outputs) => void ctx.sent.push(outputs),
    memory: new Map(),
    lab: undefined,
    labControls: () => ctx.lab,
    respond: (res, status, headers, body) => void ctx.responded.push({ res, status, headers, body }),
    sent: [],
    responded: [],
    advance(ms) {
      clock += ms;
      timers.sort((a, b) => a.at - b.at);
      while (timers.length && timers[0].at <= clock) timers.shift()!.fn();
    },
    pendingTimers: () => timers.length,
    run: (view, msg = {}) => VIEWS[view].input(msg, ctx),
  };
  return ctx;
}

/** The message on output `i` (not an array of messages). */
export function out(outputs: ViewOutputs | null, i: number): Record<string, any> {
  if (!outputs) throw new Error('the view sent nothing');
  const m = outputs[i];
  if (!m || Array.isArray(m)) throw new Error(`output ${i}: ${JSON.stringify(m)}`);
  return m as Record<string, any>;
}
