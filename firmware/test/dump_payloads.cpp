// Runs lab_payloads builders for commands read from stdin, one JSON line out per command,
// so test/firmware/firmware.test.ts can compare them byte for byte with lib/lab-device.ts.
//
//   consts                      the shared constants
//   dht <t> <h>  ldr <raw>  pir <0|1>  status <0|1>  tenths <v>
//   devid <hex mac>  client <secure|insecure> <id>
//   topic <dht|ldr|pir> <id>  status_topic <secure|insecure> <id>
// A command may end in @<n> (e.g. "dht@10") to build into an n-byte buffer (default 128).
// Output: {"cmd":"...","rc":<len or -1>,"out":"<bytes>"|null}
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "lab_payloads.h"

static void json_string(const char* s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static LabBroker broker_arg(const char* s) { return strcmp(s, "secure") == 0 ? LAB_SECURE : LAB_INSECURE; }

static LabSensor sensor_arg(const char* s) {
  if (strcmp(s, "ldr") == 0) return LAB_LDR;
  if (strcmp(s, "pir") == 0) return LAB_PIR;
  return LAB_DHT;
}

static void print_consts() {
  printf("{\"interval_ms\":%lu,\"qos\":%d,\"will_qos\":%d,\"retain\":%s,\"secure_port\":%u,\"insecure_port\":%u,"
         "\"pin_dht\":%d,\"pin_ldr\":%d,\"pin_pir\":%d,\"adc_max\":%d,\"temp_min\":%g,\"temp_max\":%g,"
         "\"hum_min\":%g,\"hum_max\":%g,\"device_id_max\":%zu}\n",
         LAB_INTERVAL_MS, LAB_QOS, LAB_WILL_QOS, LAB_RETAIN ? "true" : "false", (unsigned)LAB_SECURE_PORT,
         (unsigned)LAB_INSECURE_PORT, LAB_PIN_DHT, LAB_PIN_LDR, LAB_PIN_PIR, LAB_ADC_MAX, LAB_TEMP_MIN, LAB_TEMP_MAX,
         LAB_HUM_MIN, LAB_HUM_MAX, LAB_DEVICE_ID_MAX);
}

int main() {
  char line[256];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '\0') continue;
    char cmd[32] = "", a[64] = "", b[64] = "";
    if (sscanf(line, "%31s %63s %63s", cmd, a, b) < 1) continue;
    if (strcmp(cmd, "consts") == 0) {
      print_consts();
      continue;
    }
    size_t n = 128;
    char* at = strchr(cmd, '@');
    if (at != NULL) {
      *at = '\0';
      n = (size_t)strtoul(at + 1, NULL, 10);
    }
    std::vector<char> mem(n > 0 ? n : 1);  // exactly n bytes, so ASan sees any overrun
    char* buf = mem.data();
    int rc = -2;
    std::string c = cmd;
    if (c == "dht") rc = lab_dht_payload(buf, n, strtod(a, NULL), strtod(b, NULL));
    else if (c == "ldr") rc = lab_light_payload(buf, n, atoi(a));
    else if (c == "pir") rc = lab_motion_payload(buf, n, atoi(a) != 0);
    else if (c == "status") rc = lab_status_payload(buf, n, atoi(a) != 0);
    else if (c == "tenths") rc = lab_format_tenths(buf, n, strtod(a, NULL));
    else if (c == "devid") rc = lab_device_id(buf, n, strtoull(a, NULL, 16));
    else if (c == "client") rc = lab_client_id(buf, n, b, broker_arg(a));
    else if (c == "topic") rc = lab_sensor_topic(buf, n, sensor_arg(a), b);
    else if (c == "status_topic") rc = lab_status_topic(buf, n, broker_arg(a), b);
    printf("{\"cmd\":");
    json_string(line);
    printf(",\"rc\":%d,\"out\":", rc);
    if (rc >= 0) json_string(buf);
    else printf("null");
    printf("}\n");
  }
  return 0;
}
