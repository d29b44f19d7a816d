// Config node holding the username and password to test. Both live in Node-RED's credentials
// store: encrypted at rest and never part of an exported flow.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { CredentialsNode } from './shared/types';

export = function (RED: NodeAPI) {
  function MqttsecCredentials(this: Node<{ username: unknown; password: unknown }>, config: NodeDef) {
    RED.nodes.createNode(this, config);
    (this as CredentialsNode).toCredentials = () => {
      const { username, password } = this.credentials ?? {};
      if (typeof username !== 'string' || username === '') return null;
      return { username, password: typeof password === 'string' && password !== '' ? password : undefined };
    };
  }
  RED.nodes.registerType('mqttsec-credentials', MqttsecCredentials, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
