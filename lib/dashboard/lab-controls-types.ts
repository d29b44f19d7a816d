// What the lab dashboard's Lab controls panel needs from the lab it runs in: the lab brokers'
// settings that a class may change while they run, and a way to change them. `npm start`
// (lab/lab-controls.ts) provides it through Node-RED's global context (LAB_CONTROLS_KEY, set by
// settings.functionGlobalContext); lib/ never imports the lab. Outside `npm start` there is none.
// Types only, so that types.ts (ViewContext) and lab-controls.ts can both use them.

/** A control's value: on/off for a switch, one option's value for a choice. */
export type LabControlValue = boolean | string;

/** One option of a choice control, e.g. {value: 'expired', label: 'Expired (lab CA)'}. */
export interface LabControlOption {
  value: string;
  label: string;
}

/** One setting of one lab broker, as it is now. */
export interface LabControl {
  /** Unique within its broker, e.g. 'requireLogin', 'acl', 'certificate'. */
  id: string;
  /** What the class reads next to it, e.g. 'Require a login'. */
  label: string;
  /** 'switch': `value` is a boolean; 'choice': `value` is the value of one of `options`. */
  kind: 'switch' | 'choice';
  value: LabControlValue;
  /** The value the lab starts with as shipped. */
  shipped: LabControlValue;
  /** A choice's options (absent for a switch). */
  options?: LabControlOption[];
  /** What the current value does to the broker and its clients, in a sentence or two. */
  effect: string;
  /** The lines of mosquitto.conf (and of its acl_file) that give a real Mosquitto the current value. Never a password. */
  mosquittoConf: string[];
}

/** One lab broker and its controls. */
export interface LabBrokerState {
  /** 'insecure' or 'secure' in `npm start`'s lab. */
  id: string;
  /** e.g. 'Insecure lab broker'. */
  name: string;
  /** Its listeners' URLs, e.g. 'mqtt://127.0.0.1:1883', 'ws://127.0.0.1:9001/mqtt'. */
  addresses: string[];
  controls: LabControl[];
}

/** Every lab broker the panel can change, as they are now. */
export interface LabControlsState {
  brokers: LabBrokerState[];
}

/** One change a class asks for: control `control` of broker `broker` set to `value`. */
export interface LabControlChange {
  broker: string;
  control: string;
  value: LabControlValue;
}

/** What a change did. */
export interface LabControlOutcome {
  /** The lab after the change. */
  state: LabControlsState;
  /** The MQTT connections to that broker that were closed so that every client meets the new setting when it reconnects (0: nothing changed). */
  closed: number;
  /** One sentence for people, e.g. 'Insecure lab broker: Require a login is on.' Never a password. */
  text: string;
}

/**
 * The lab's side of the Lab controls panel. Both methods are synchronous. `apply` throws an Error
 * whose message names the bad part (the broker, the control, the value) when `change` is not one
 * of `state()`'s; a change to the value in force does nothing and closes no connection.
 */
export interface LabControls {
  state(): LabControlsState;
  apply(change: LabControlChange): LabControlOutcome;
}
