// Config node: the coordinator's broker of the sites protocol (lib/sites) and this process's own
// login there. The username and password live in Node-RED's credentials store (encrypted at rest,
// never in an exported flow); the CA (and a client certificate) come from a core tls-config node.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { siteBrokerOptions } from './shared/site-settings';
import type { SiteBrokerNode, TlsConfigNode } from './shared/types';

interface SiteBrokerDef extends NodeDef {
  /** mqtts://host:port */
  url?: string;
  /** A core tls-config node: the CA the broker's certificate must chain to. */
  tls?: string;
  /** Session Expiry Interval, s (blank: lib/sites DEFAULT_SESSION_EXPIRY_SECONDS). */
  sessionExpiry?: string | number;
  /** Client id prefix of the persistent sessions (blank: the engine's, from the login). */
  clientId?: string;
}

export = function (RED: NodeAPI) {
  function MqttsecSiteBroker(this: Node<{ username: unknown; password: unknown }>, config: SiteBrokerDef) {
    RED.nodes.createNode(this, config);
    (this as SiteBrokerNode).brokerOptions = () => {
      // undefined: no TLS node chosen; null: one is named but missing.
      const tls = config.tls ? ((RED.nodes.getNode(config.tls) as TlsConfigNode | null) ?? null) : undefined;
      return siteBrokerOptions(config, this.credentials ?? {}, tls);
    };
  }
  RED.nodes.registerType('mqttsec-site-broker', MqttsecSiteBroker, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
