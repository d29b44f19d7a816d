// The Lab controls panel of the lab dashboard (issue 18): the class changes the embedded lab
// brokers while they run (a login on the insecure broker, a topic ACL, the secure broker's
// certificate), rescans, and sees the findings resolved under "Since the previous scan". Each
// control shows the mosquitto.conf lines that do the same on a real Mosquitto.
//
// The lab itself is reached through ViewContext.labControls(): `npm start` hands its LabControls to
// the flows in Node-RED's global context (LAB_CONTROLS_KEY). Outside that lab (the flow imported
// into another Node-RED, the Docker image) there is none, and the panel says so. The panel keeps
// nothing in the flow context: the lab is the truth, and keeps its own settings across restarts.
import { record, errorText } from './read';
import { scansRunning } from './scans-running';
import { RUNNING_LOCK_MS } from './form';
import type { LabBrokerState, LabControl, LabControlChange, LabControls, LabControlsState, LabControlValue } from './lab-controls-types';
import type { View, ViewContext, ViewMessage } from './types';

/** The key of Node-RED's global context under which `npm start` hands its LabControls to the flows (settings.functionGlobalContext). */
export const LAB_CONTROLS_KEY = 'mqttsecLabControls';

/** What the panel says outside `npm start`'s lab. */
export const LAB_CONTROLS_UNAVAILABLE =
  "Lab controls work only in the lab that `npm start` runs: it changes that lab's own embedded brokers. This Node-RED has no such lab (the flow was imported here), so there is nothing to change.";

/** Bounds of what the panel shows, whatever a LabControls returns. */
const MAX_BROKERS = 8;
const MAX_CONTROLS = 8;
const MAX_OPTIONS = 12;
const MAX_CONF_LINES = 40;
const MAX_TEXT = 400;
const MAX_LINE = 200;

/** One control as the panel shows it (ui_template text bindings only). */
export interface PanelControl {
  id: string;
  label: string;
  kind: 'switch' | 'choice';
  value: LabControlValue;
  options: Array<{ value: string; label: string }>;
  /** The value is the one the lab ships with. */
  asShipped: boolean;
  effect: string;
  /** The mosquitto.conf lines, one per line. */
  conf: string;
}

/** One broker as the panel shows it. */
export interface PanelBroker {
  id: string;
  name: string;
  /** Its URLs, separated by ' · '. */
  addresses: string;
  controls: PanelControl[];
}

/** The Lab controls panel (msg.payload of the ui_template). */
export interface LabControlsPanel {
  /** False outside `npm start`'s lab: then only `unavailable` is shown. */
  available: boolean;
  unavailable: string | null;
  brokers: PanelBroker[];
  /** Every control has the value the lab ships with (the reset button has nothing to do). */
  asShipped: boolean;
  /** What the last request did, or why it was refused; null on a plain redraw. */
  notice: { kind: 'done' | 'error'; text: string } | null;
}

/** A request read from the panel: one change, or every control back to its shipped value. */
export type LabControlRequest = { ok: true; change: LabControlChange } | { ok: true; reset: true } | { ok: false; message: string };

/** `v` when it has the two methods of LabControls (what a flow put in the global context may be anything). */
export function isLabControls(v: unknown): v is LabControls {
  const r = record(v);
  return typeof r.state === 'function' && typeof r.apply === 'function';
}

const text = (v: unknown, max: number): string => {
  const s = typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

function panelControl(c: LabControl): PanelControl {
  const kind = c.kind === 'choice' ? 'choice' : 'switch';
  const options = kind === 'choice' && Array.isArray(c.options)
    ? c.options.slice(0, MAX_OPTIONS).map((o) => ({ value: text(record(o).value, MAX_LINE), label: text(record(o).label, MAX_LINE) }))
    : [];
  const value: LabControlValue = kind === 'switch' ? c.value === true : text(c.value, MAX_LINE);
  const lines = Array.isArray(c.mosquittoConf) ? c.mosquittoConf.slice(0, MAX_CONF_LINES).map((l) => text(l, MAX_LINE)) : [];
  return {
    id: text(c.id, MAX_LINE),
    label: text(c.label, MAX_LINE),
    kind,
    value,
    options,
    asShipped: c.value === c.shipped,
    effect: text(c.effect, MAX_TEXT),
    conf: lines.join('\n'),
  };
}

function brokersOf(state: unknown): LabBrokerState[] {
  const list = record(state).brokers;
  return Array.isArray(list) ? (list.slice(0, MAX_BROKERS).filter((b) => record(b).id) as LabBrokerState[]) : [];
}

function controlsOf(broker: LabBrokerState): LabControl[] {
  return Array.isArray(broker.controls) ? broker.controls.slice(0, MAX_CONTROLS).filter((c) => record(c).id) : [];
}

/**
 * The panel for `state` (undefined: outside `npm start`'s lab), with `notice` under it. Reads
 * `state` defensively and bounds every text: brokers, controls, options and lines are cut at a
 * few dozen, texts at a few hundred characters.
 */
export function labControlsPanel(state: LabControlsState | undefined, notice: LabControlsPanel['notice'] = null): LabControlsPanel {
  if (!state) return { available: false, unavailable: LAB_CONTROLS_UNAVAILABLE, brokers: [], asShipped: true, notice };
  const brokers = brokersOf(state).map((b) => ({
    id: text(b.id, MAX_LINE),
    name: text(b.name, MAX_LINE),
    addresses: (Array.isArray(b.addresses) ? b.addresses.slice(0, 4) : []).map((a) => text(a, MAX_LINE)).join(' · '),
    controls: controlsOf(b).map(panelControl),
  }));
  return { available: true, unavailable: null, brokers, asShipped: brokers.every((b) => b.controls.every((c) => c.asShipped)), notice };
}

/**
 * Reads a request of the panel against the lab's `state`: 'reset' (or {reset: true}) asks for
 * every control back to its shipped value; {broker, control, value} for one change, where
 * `broker` is one of the state's brokers, `control` one of its controls and `value` a boolean
 * (switch) or one of the options' values (choice). A refusal names the bad part.
 */
export function readLabRequest(payload: unknown, state: LabControlsState): LabControlRequest {
  if (payload === 'reset' || record(payload).reset === true) return { ok: true, reset: true };
  const p = record(payload);
  const brokers = brokersOf(state);
  const names = (xs: Array<{ id: string }>) => xs.map((x) => x.id).join(', ');
  if (typeof p.broker !== 'string') return { ok: false, message: `broker: missing (one of ${names(brokers)})` };
  const broker = brokers.find((b) => b.id === p.broker);
  // The panel goes to every open tab: a refusal names what is allowed, never repeats what was sent
  // (a crafted request could otherwise put its own words in front of every student).
  if (!broker) return { ok: false, message: `broker: not a lab broker (${names(brokers)})` };
  const controls = controlsOf(broker);
  if (typeof p.control !== 'string') return { ok: false, message: `control: missing (one of ${names(controls)})` };
  const control = controls.find((c) => c.id === p.control);
  if (!control) return { ok: false, message: `control: not a control of the ${broker.id} broker (${names(controls)})` };
  if (control.kind === 'choice') {
    const values = (control.options ?? []).map((o) => o.value);
    if (typeof p.value !== 'string' || !values.includes(p.value)) return { ok: false, message: `${control.id}: must be one of ${values.join(', ')}` };
  } else if (typeof p.value !== 'boolean') {
    return { ok: false, message: `${control.id}: must be true or false` };
  }
  return { ok: true, change: { broker: broker.id, control: control.id, value: p.value as LabControlValue } };
}

/** "2 connections were closed: …" after a change, or '' when none were. */
function closedText(closed: number): string {
  if (closed <= 0) return '';
  return ` ${closed} connection${closed === 1 ? ' was' : 's were'} closed: clients reconnect under the new setting.`;
}

/** The lab's state, or why it gave none (never throws). */
function stateOf(lab: LabControls): { state: LabControlsState } | { error: string } {
  try {
    return { state: lab.state() };
  } catch (err) {
    return { error: errorText(err, 'no answer', MAX_TEXT) };
  }
}

/** The views of the Lab controls panel, merged into VIEWS (views.ts). */
export const LAB_CONTROL_VIEWS = {
  /**
   * The Lab controls panel. In: topic 'show' (on deploy and start: the lab as it is), or the
   * panel's request in msg.payload (readLabRequest). Refused while a scan runs, so that one scan
   * sees one lab. Output: the panel (LabControlsPanel) with what the request did or why it was
   * refused. Bad input or a lab that throws never throws here: the notice says what went wrong.
   */
  'lab-controls': {
    outputs: 1,
    input(msg: ViewMessage, ctx: ViewContext) {
      const lab = ctx.labControls();
      if (!lab) return [{ payload: labControlsPanel(undefined) }];
      const read = stateOf(lab);
      if ('error' in read) return [{ payload: { ...labControlsPanel(undefined), unavailable: `The lab did not say how its brokers are set: ${read.error}` } }];
      const state = read.state;
      const panel = (s: LabControlsState, notice: LabControlsPanel['notice'] = null) => [{ payload: labControlsPanel(s, notice) }];
      if (msg.topic === 'show') return panel(state);
      const request = readLabRequest(msg.payload, state);
      if (!request.ok) return panel(state, { kind: 'error', text: `Not changed: ${request.message}.` });
      const running = record(ctx.flow.get('running'));
      // The dashboard's own scan, or any scan of the shipped flows (the HTTP API's too).
      if ((typeof running.at === 'number' && ctx.now() - running.at < RUNNING_LOCK_MS) || scansRunning(ctx, ctx.now()) > 0) {
        return panel(state, { kind: 'error', text: 'A scan is running: change the lab when it has finished (or cancel it), so that one scan sees one lab.' });
      }
      try {
        if ('reset' in request) {
          let closed = 0;
          let after = state;
          for (const b of brokersOf(state)) {
            for (const c of controlsOf(b)) {
              if (c.value === c.shipped) continue;
              const done = lab.apply({ broker: b.id, control: c.id, value: c.shipped });
              closed += done.closed;
              after = done.state;
            }
          }
          return panel(after, { kind: 'done', text: `The lab is back as shipped.${closedText(closed)} Scan again to see what changed.` });
        }
        const done = lab.apply(request.change);
        return panel(done.state, { kind: 'done', text: `${text(done.text, MAX_TEXT)}${closedText(done.closed)}${done.closed ? ' Scan again to see what changed.' : ''}` });
      } catch (err) {
        const now = stateOf(lab);
        return panel('state' in now ? now.state : state, { kind: 'error', text: `Not changed: ${errorText(err, 'the lab refused the change', MAX_TEXT)}` });
      }
    },
  },
} satisfies Record<string, View>;
