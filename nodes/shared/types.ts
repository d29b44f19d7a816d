// Shapes of the config nodes our nodes read through RED.nodes.getNode.
import type { Node } from 'node-red';
import type { Credentials } from '../../lib/types';

export interface CredentialsNode extends Node<{ username?: string; password?: string }> {
  toCredentials(): Credentials | null;
}

/** Node-RED's core tls-config node. */
export interface TlsConfigNode extends Node {
  addTLSOptions(opts: Record<string, unknown>): void;
}

export type I18nVars = Record<string, string | number>;

/** Our mqttsec-site-broker config node: the coordinator's broker and this process's login there. */
export interface SiteBrokerNode extends Node<{ username?: string; password?: string }> {
  /** The options of lib/sites for this broker; throws SiteSettingError naming the bad field. */
  brokerOptions(): { broker: import('../../lib/sites').SitesBrokerOptions; clientId?: string };
}
