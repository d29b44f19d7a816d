// Host tests of lab_payloads and lab_backoff: g++ -std=c++17 -Wall -Wextra -Werror.
// Prints one line per failure and a summary; exits 1 if anything failed.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab_backoff.h"
#include "lab_payloads.h"

static int passed = 0, failed = 0;

static void check(bool ok, const char* what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL line %d: %s\n", line, what);
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

// Builds into a buffer with guard bytes after n, checks the result and that nothing overran.
#define EXPECT(call_with_buf, n_, expected)                                            \
  do {                                                                                 \
    char mem[128];                                                                     \
    memset(mem, 0x5a, sizeof mem);                                                     \
    char* buf = mem;                                                                   \
    size_t n = (n_);                                                                   \
    int rc = call_with_buf;                                                            \
    const char* want = (expected);                                                     \
    bool ok = want ? (rc == (int)strlen(want) && strcmp(buf, want) == 0)               \
                   : (rc == -1 && (n == 0 || buf[0] == '\0'));                         \
    for (size_t i = n; i < sizeof mem; i++) ok = ok && mem[i] == 0x5a;                 \
    if (!ok) printf("  got rc=%d buf=\"%.*s\"\n", rc, (int)(n ? n - 1 : 0), buf);     \
    check(ok, #call_with_buf " == " #expected, __LINE__);                              \
  } while (0)

static void test_format() {
  EXPECT(lab_format_tenths(buf, n, 28.5), 16, "28.5");
  EXPECT(lab_format_tenths(buf, n, 65), 16, "65.0");
  EXPECT(lab_format_tenths(buf, n, 0.05), 16, "0.1");
  EXPECT(lab_format_tenths(buf, n, 0.15), 16, "0.2");
  EXPECT(lab_format_tenths(buf, n, 0.25), 16, "0.3");
  EXPECT(lab_format_tenths(buf, n, 28.15), 16, "28.2");
  EXPECT(lab_format_tenths(buf, n, 28.25), 16, "28.3");
  EXPECT(lab_format_tenths(buf, n, 28.04), 16, "28.0");
  EXPECT(lab_format_tenths(buf, n, -0.05), 16, "-0.1");
  EXPECT(lab_format_tenths(buf, n, -0.04), 16, "0.0");
  EXPECT(lab_format_tenths(buf, n, -12.25), 16, "-12.3");
  EXPECT(lab_format_tenths(buf, n, 1e6), 16, "1000000.0");
  EXPECT(lab_format_tenths(buf, n, -1e6), 16, "-1000000.0");
  EXPECT(lab_format_tenths(buf, n, 1e6 + 1), 16, NULL);
  EXPECT(lab_format_tenths(buf, n, NAN), 16, NULL);
  EXPECT(lab_format_tenths(buf, n, INFINITY), 16, NULL);
  EXPECT(lab_format_tenths(buf, n, 28.5), 4, NULL);
  EXPECT(lab_format_tenths(buf, n, 28.5), 5, "28.5");
}

static void test_payloads() {
  EXPECT(lab_dht_payload(buf, n, 28.5, 65), 64, "{\"temperature\":28.5,\"humidity\":65.0}");
  EXPECT(lab_dht_payload(buf, n, 0, 20), 64, "{\"temperature\":0.0,\"humidity\":20.0}");
  EXPECT(lab_dht_payload(buf, n, 50, 90), 64, "{\"temperature\":50.0,\"humidity\":90.0}");
  EXPECT(lab_dht_payload(buf, n, 49.96, 89.95), 64, "{\"temperature\":50.0,\"humidity\":90.0}");
  EXPECT(lab_dht_payload(buf, n, -0.1, 65), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, 50.1, 65), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, 25, 19.9), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, 25, 90.1), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, NAN, 65), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, 25, NAN), 64, NULL);
  EXPECT(lab_dht_payload(buf, n, 28.5, 65), 36, NULL);
  EXPECT(lab_dht_payload(buf, n, 28.5, 65), 37, "{\"temperature\":28.5,\"humidity\":65.0}");
  EXPECT(lab_dht_payload(buf, n, 28.5, 65), 0, NULL);

  EXPECT(lab_light_payload(buf, n, 0), 64, "{\"raw\":0,\"percent\":0}");
  EXPECT(lab_light_payload(buf, n, 2048), 64, "{\"raw\":2048,\"percent\":50}");
  EXPECT(lab_light_payload(buf, n, 4095), 64, "{\"raw\":4095,\"percent\":100}");
  EXPECT(lab_light_payload(buf, n, 20), 64, "{\"raw\":20,\"percent\":0}");
  EXPECT(lab_light_payload(buf, n, 21), 64, "{\"raw\":21,\"percent\":1}");  // 0.513 % rounds up
  EXPECT(lab_light_payload(buf, n, -1), 64, NULL);
  EXPECT(lab_light_payload(buf, n, 4096), 64, NULL);
  EXPECT(lab_light_payload(buf, n, 4095), 26, NULL);
  EXPECT(lab_light_payload(buf, n, 4095), 27, "{\"raw\":4095,\"percent\":100}");

  EXPECT(lab_motion_payload(buf, n, true), 64, "{\"motion\":true}");
  EXPECT(lab_motion_payload(buf, n, false), 64, "{\"motion\":false}");
  EXPECT(lab_motion_payload(buf, n, false), 16, NULL);
  EXPECT(lab_status_payload(buf, n, true), 64, "online");
  EXPECT(lab_status_payload(buf, n, false), 64, "offline");
  EXPECT(lab_status_payload(buf, n, false), 7, NULL);
  CHECK(LAB_PAYLOAD_MAX > strlen("{\"temperature\":50.0,\"humidity\":90.0}"));
}

static void test_topics_and_ids() {
  EXPECT(lab_device_id(buf, n, 0x0000f0e1d2c3b4a5ULL), 32, "esp32-a5b4c3d2e1f0");
  EXPECT(lab_device_id(buf, n, 0xffff000000000001ULL), 32, "esp32-010000000000");
  EXPECT(lab_device_id(buf, n, 0), 18, NULL);
  EXPECT(lab_client_id(buf, n, "esp32-a5b4c3d2e1f0", LAB_SECURE), 32, "esp32-a5b4c3d2e1f0-s");
  EXPECT(lab_client_id(buf, n, "esp32-a5b4c3d2e1f0", LAB_INSECURE), 32, "esp32-a5b4c3d2e1f0-i");
  EXPECT(lab_sensor_topic(buf, n, LAB_DHT, "dev1"), 64, "lab/secure/dev1/dht");
  EXPECT(lab_sensor_topic(buf, n, LAB_LDR, "dev1"), 64, "lab/secure/dev1/ldr");
  EXPECT(lab_sensor_topic(buf, n, LAB_PIR, "dev1"), 64, "lab/insecure/dev1/pir");
  EXPECT(lab_status_topic(buf, n, LAB_SECURE, "dev1"), 64, "lab/secure/dev1/status");
  EXPECT(lab_status_topic(buf, n, LAB_INSECURE, "dev1"), 64, "lab/insecure/dev1/status");
  EXPECT(lab_sensor_topic(buf, n, LAB_DHT, "a/b"), 64, NULL);
  EXPECT(lab_sensor_topic(buf, n, LAB_DHT, "#"), 64, NULL);
  EXPECT(lab_status_topic(buf, n, LAB_SECURE, ""), 64, NULL);
  EXPECT(lab_status_topic(buf, n, LAB_SECURE, "abcdefghijklmnopqrstuv"), 64, NULL);  // 22 chars
  EXPECT(lab_status_topic(buf, n, LAB_INSECURE, "abcdefghijklmnopqrstu"), LAB_TOPIC_MAX + 1,
         "lab/insecure/abcdefghijklmnopqrstu/status");
  CHECK(!lab_valid_device_id(NULL));
  CHECK(lab_valid_device_id("esp32_lab-01"));
}

static void test_backoff() {
  LabBackoff b(1000, 8000);
  CHECK(b.due(0));
  b.attempt(0);
  CHECK(!b.due(999));
  CHECK(b.due(1000));
  b.attempt(1000);
  CHECK(!b.due(2999));
  CHECK(b.due(3000));
  b.attempt(3000);  // 4 s
  b.attempt(7000);  // 8 s
  b.attempt(15000);  // capped at 8 s
  CHECK(b.waitMs == 8000);
  CHECK(!b.due(22999) && b.due(23000));
  b.succeeded();
  CHECK(b.due(23001) && b.waitMs == 1000);

  LabBackoff w(1000, 60000);  // millis() wraps around
  w.attempt(0xFFFFFF00UL);
  CHECK(!w.due(0xFFFFFFFFUL));
  CHECK(!w.due(0x000002E7UL));  // 999 ms later
  CHECK(w.due(0x000002E8UL));   // 1000 ms later
}

int main() {
  test_format();
  test_payloads();
  test_topics_and_ids();
  test_backoff();
  printf("lab_payloads: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
