// Topics and payload bytes of the lab device, with no Arduino dependency so the host can
// test them (firmware/test). lib/sniff/lab-device.ts is the same description in TypeScript;
// test/firmware/firmware.test.ts checks that both produce identical bytes.
//
// Every builder writes a NUL-terminated string into buf (size n) and returns its length,
// or -1 when the input is invalid or does not fit; buf is then left as an empty string.
#ifndef LAB_PAYLOADS_H
#define LAB_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

enum LabBroker { LAB_SECURE = 0, LAB_INSECURE = 1 };
enum LabSensor { LAB_DHT = 0, LAB_LDR = 1, LAB_PIR = 2 };

static const unsigned long LAB_INTERVAL_MS = 3000;
static const int LAB_QOS = 0;       // PubSubClient publishes at QoS 0 only
static const int LAB_WILL_QOS = 1;  // the broker sends the will, so QoS 1 is possible
static const bool LAB_RETAIN = true;
static const uint16_t LAB_SECURE_PORT = 8883;
static const uint16_t LAB_INSECURE_PORT = 1883;

static const int LAB_PIN_DHT = 4;
static const int LAB_PIN_LDR = 34;  // ADC1: ADC2 is unusable while Wi-Fi is on
static const int LAB_PIN_PIR = 27;
static const int LAB_ADC_MAX = 4095;

// DHT11 datasheet range; anything outside (or NaN) is not published.
static const double LAB_TEMP_MIN = 0.0, LAB_TEMP_MAX = 50.0;
static const double LAB_HUM_MIN = 20.0, LAB_HUM_MAX = 90.0;

// Keeps "<id>-s" within the 23 bytes MQTT 3.1.1 guarantees for client ids.
static const size_t LAB_DEVICE_ID_MAX = 21;
// Largest topic: "lab/insecure/" + id + "/status".
static const size_t LAB_TOPIC_MAX = 13 + LAB_DEVICE_ID_MAX + 7;
static const size_t LAB_PAYLOAD_MAX = 48;

bool lab_valid_device_id(const char* id);
int lab_device_id(char* buf, size_t n, uint64_t efuse_mac);
int lab_client_id(char* buf, size_t n, const char* device_id, LabBroker broker);

LabBroker lab_sensor_broker(LabSensor sensor);
const char* lab_sensor_name(LabSensor sensor);  // "dht" | "ldr" | "pir"
const char* lab_broker_name(LabBroker broker);  // "secure" | "insecure"
int lab_sensor_topic(char* buf, size_t n, LabSensor sensor, const char* device_id);
int lab_status_topic(char* buf, size_t n, LabBroker broker, const char* device_id);

// One decimal: round half away from zero of v * 10.0 (IEEE double), printed from integers.
// |v| must be <= 1e6.
int lab_format_tenths(char* buf, size_t n, double v);
bool lab_dht_valid(double temperature, double humidity);
int lab_light_percent(int raw);  // 0-100, or -1 when raw is outside 0-4095

int lab_dht_payload(char* buf, size_t n, double temperature, double humidity);
int lab_light_payload(char* buf, size_t n, int raw);
int lab_motion_payload(char* buf, size_t n, bool motion);
int lab_status_payload(char* buf, size_t n, bool online);

#endif
