// In-process aedes broker on an ephemeral 127.0.0.1 port for tests: the lab's own implementation.
export { startAedes, type AedesBroker, type AedesOptions } from '../../lab/aedes-broker';
