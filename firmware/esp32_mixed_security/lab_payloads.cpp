#include "lab_payloads.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

// snprintf with the unit's contract: length, or -1 and an empty buf.
static int put(char* buf, size_t n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
static int put(char* buf, size_t n, const char* fmt, ...) {
  if (buf == NULL || n == 0) return -1;
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(buf, n, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= n) {
    buf[0] = '\0';
    return -1;
  }
  return len;
}

static int fail(char* buf, size_t n) {
  if (buf != NULL && n > 0) buf[0] = '\0';
  return -1;
}

bool lab_valid_device_id(const char* id) {
  if (id == NULL) return false;
  size_t i = 0;
  for (; id[i] != '\0'; i++) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok || i >= LAB_DEVICE_ID_MAX) return false;
  }
  return i > 0;
}

int lab_device_id(char* buf, size_t n, uint64_t mac) {
  // getEfuseMac() keeps MAC byte 0 in its lowest 8 bits.
  return put(buf, n, "esp32-%02x%02x%02x%02x%02x%02x", (unsigned)(mac & 0xff), (unsigned)((mac >> 8) & 0xff),
             (unsigned)((mac >> 16) & 0xff), (unsigned)((mac >> 24) & 0xff), (unsigned)((mac >> 32) & 0xff),
             (unsigned)((mac >> 40) & 0xff));
}

int lab_client_id(char* buf, size_t n, const char* device_id, LabBroker broker) {
  if (!lab_valid_device_id(device_id)) return fail(buf, n);
  return put(buf, n, "%s-%s", device_id, broker == LAB_SECURE ? "s" : "i");
}

LabBroker lab_sensor_broker(LabSensor sensor) { return sensor == LAB_PIR ? LAB_INSECURE : LAB_SECURE; }

const char* lab_sensor_name(LabSensor sensor) {
  switch (sensor) {
    case LAB_DHT: return "dht";
    case LAB_LDR: return "ldr";
    case LAB_PIR: return "pir";
  }
  return "";
}

const char* lab_broker_name(LabBroker broker) { return broker == LAB_SECURE ? "secure" : "insecure"; }

int lab_sensor_topic(char* buf, size_t n, LabSensor sensor, const char* device_id) {
  if (!lab_valid_device_id(device_id)) return fail(buf, n);
  return put(buf, n, "lab/%s/%s/%s", lab_broker_name(lab_sensor_broker(sensor)), device_id, lab_sensor_name(sensor));
}

int lab_status_topic(char* buf, size_t n, LabBroker broker, const char* device_id) {
  if (!lab_valid_device_id(device_id)) return fail(buf, n);
  return put(buf, n, "lab/%s/%s/status", lab_broker_name(broker), device_id);
}

int lab_format_tenths(char* buf, size_t n, double v) {
  if (!isfinite(v) || fabs(v) > 1e6) return fail(buf, n);
  long tenths = lround(v * 10.0);  // half away from zero; fits 32 bits given the bound
  unsigned long mag = (unsigned long)(tenths < 0 ? -tenths : tenths);
  return put(buf, n, "%s%lu.%lu", tenths < 0 ? "-" : "", mag / 10, mag % 10);
}

bool lab_dht_valid(double t, double h) {
  // NaN fails every comparison, so it is rejected too.
  return t >= LAB_TEMP_MIN && t <= LAB_TEMP_MAX && h >= LAB_HUM_MIN && h <= LAB_HUM_MAX;
}

int lab_light_percent(int raw) {
  if (raw < 0 || raw > LAB_ADC_MAX) return -1;
  return (raw * 200 + LAB_ADC_MAX) / (2 * LAB_ADC_MAX);  // rounded half up, integers only
}

int lab_dht_payload(char* buf, size_t n, double t, double h) {
  char ts[16], hs[16];
  if (!lab_dht_valid(t, h) || lab_format_tenths(ts, sizeof ts, t) < 0 || lab_format_tenths(hs, sizeof hs, h) < 0)
    return fail(buf, n);
  return put(buf, n, "{\"temperature\":%s,\"humidity\":%s}", ts, hs);
}

int lab_light_payload(char* buf, size_t n, int raw) {
  int percent = lab_light_percent(raw);
  if (percent < 0) return fail(buf, n);
  return put(buf, n, "{\"raw\":%d,\"percent\":%d}", raw, percent);
}

int lab_motion_payload(char* buf, size_t n, bool motion) {
  return put(buf, n, "{\"motion\":%s}", motion ? "true" : "false");
}

int lab_status_payload(char* buf, size_t n, bool online) { return put(buf, n, "%s", online ? "online" : "offline"); }
