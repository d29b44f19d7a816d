// A broker that sends what no broker should while we listen: the sniffer stays within its bounds,
// keeps the event loop responsive, ends on time and reports what it saw.
import { strict as assert } from 'node:assert';
import { sniffBroker } from '../../lib/sniff';
import { rawPublish, startHostileBroker, type HostileBroker } from '../support/hostile-broker';
import { watchLoop } from '../support/loop-watch';

const LISTEN_MS = 600;

async function sniffWith(attack: Parameters<typeof startHostileBroker>[0]) {
  const broker: HostileBroker = await startHostileBroker(attack);
  const loop = watchLoop(10);
  try {
    const started = Date.now();
    const topics = await sniffBroker({ host: '127.0.0.1', port: broker.port }, { transport: 'tcp', version: '3.1.1', listenMs: LISTEN_MS, connectTimeoutMs: 2000 });
    return { topics, elapsed: Date.now() - started, maxGap: loop.maxGap };
  } finally {
    loop.stop();
    await broker.close();
  }
}

describe('hostile brokers: the sniffer', function () {
  this.timeout(20_000);

  it('a 1 MB topic name is dropped unread; the next message still counts', async () => {
    const { topics, elapsed, maxGap } = await sniffWith((s) => {
      s.write(rawPublish(Buffer.alloc(1024 * 1024, 0x61), Buffer.from('x')));
      s.write(rawPublish(Buffer.from('lab/ok'), Buffer.from('21.5')));
    });
    assert.equal(topics.error ?? null, null, String(topics.error));
    assert.deepEqual(topics.items.map((i) => i.topic), ['lab/ok']);
    assert.ok(topics.items.every((i) => i.topic.length < 1000));
    assert.ok(elapsed < LISTEN_MS + 2000, `ended after ${elapsed} ms`);
    assert.ok(maxGap < 500, `event loop stalled ${maxGap} ms`);
  });

  it('invalid UTF-8 in a topic name neither crashes nor leaks raw bytes into the result', async () => {
    const { topics, elapsed } = await sniffWith((s) => {
      s.write(rawPublish(Buffer.from([0x6c, 0x61, 0x62, 0x2f, 0xff, 0xfe, 0xc3]), Buffer.from('1')));
      s.write(rawPublish(Buffer.from('lab/after'), Buffer.from('2')));
    });
    assert.ok(elapsed < LISTEN_MS + 2000, `ended after ${elapsed} ms`);
    // The broken bytes become U+FFFD, and the message after it is still read.
    assert.equal(topics.error ?? null, null);
    const names = topics.items.map((i) => i.topic).sort();
    assert.deepEqual(names, ['lab/after', 'lab/\ufffd\ufffd\ufffd']);
  });

  it('a flood of distinct topics from a single fake broker stays within maxTopics', async () => {
    const { topics, maxGap } = await sniffWith((s) => {
      const burst = Buffer.concat(Array.from({ length: 5000 }, (_, i) => rawPublish(Buffer.from(`flood/${i}`), Buffer.alloc(200, 0x42))));
      s.write(burst);
    });
    assert.ok(topics.items.length <= 500, `${topics.items.length} topics kept`);
    assert.ok((topics.truncated ?? []).length > 0, 'the result says a bound was hit');
    assert.ok(maxGap < 500, `event loop stalled ${maxGap} ms`);
  });

  const protocolBreaks: Array<[string, Buffer, RegExp]> = [
    ['a PUBLISH with QoS 3', Buffer.from([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]), /malformed packet \(type 3\)/],
    ['a CONNECT sent to the client', Buffer.from([0x10, 0x00]), /unexpected packet \(type 1\)/],
    ['a remaining length that never ends', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0xff]), /malformed packet length/],
    ['a DISCONNECT', Buffer.from([0xe0, 0x00]), /sent DISCONNECT/],
  ];
  for (const [what, bytes, reason] of protocolBreaks) {
    it(`${what} after the messages: the topics so far are kept, the error names it`, async () => {
      const { topics, elapsed } = await sniffWith((s) => {
        s.write(rawPublish(Buffer.from('lab/before'), Buffer.from('1')));
        setTimeout(() => s.write(bytes), 50);
      });
      assert.deepEqual(topics.items.map((i) => i.topic), ['lab/before']);
      assert.match(String(topics.error), reason);
      assert.ok(elapsed < LISTEN_MS + 2000, `ended after ${elapsed} ms`);
    });
  }
});
