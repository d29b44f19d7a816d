// The lab's real device, both sides of the lesson on one board:
//   DHT11 + LDR  -> secure broker (8883, TLS with the lab CA pinned, username/password)
//   PIR          -> insecure broker (1883, plain text, anonymous): what the scanner can see
// Topics and payload bytes come from lab_payloads.h (the same as lib/sniff/lab-device.ts).
// Configuration: copy secrets.example.h to secrets.h (git-ignored). See ../README.md.

#include <DHT.h>
#include <PubSubClient.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>

#include "lab_backoff.h"
#include "lab_payloads.h"
#include "secrets.h"

#ifndef LAB_TLS_INSECURE
#define LAB_TLS_INSECURE 0
#endif
#ifndef INSECURE_BROKER_HOST
#define INSECURE_BROKER_HOST BROKER_HOST
#endif

static const uint16_t MQTT_BUFFER_SIZE = 256;  // header + topic + payload, with room to spare
static const uint16_t MQTT_KEEPALIVE_S = 15;   // the broker publishes the will ~1.5x this after a loss
static const unsigned long TLS_HANDSHAKE_TIMEOUT_S = 5;  // bounds how long one attempt can stall loop()

struct Link {
  const char* name;  // "SECURE" | "INSECURE", as printed on Serial
  LabBroker broker;
  PubSubClient mqtt;
  LabBackoff backoff;
  bool up;
  char clientId[LAB_DEVICE_ID_MAX + 3];
  char statusTopic[LAB_TOPIC_MAX + 1];

  Link(const char* n, LabBroker b, Client& net) : name(n), broker(b), mqtt(net), backoff(2000, 60000), up(false) {
    clientId[0] = '\0';
    statusTopic[0] = '\0';
  }
};

static DHT dht(LAB_PIN_DHT, DHT11);
static WiFiClientSecure secureNet;
static WiFiClient plainNet;
static Link secureLink("SECURE", LAB_SECURE, secureNet);
static Link insecureLink("INSECURE", LAB_INSECURE, plainNet);
static LabBackoff wifiBackoff(5000, 60000);  // an association takes a few seconds
static bool wifiUp = false;

static char deviceId[LAB_DEVICE_ID_MAX + 1];
static char topicDht[LAB_TOPIC_MAX + 1];
static char topicLdr[LAB_TOPIC_MAX + 1];
static char topicPir[LAB_TOPIC_MAX + 1];

static bool readingDone = false;
static unsigned long lastReadingMs = 0;
static int lastMotion = -1;  // -1 until the first PIR read

static bool wifiReady(unsigned long now) {
  if (WiFi.status() == WL_CONNECTED) {
    if (!wifiUp) {
      wifiUp = true;
      wifiBackoff.succeeded();
      Serial.println("WiFi connected!");
      Serial.print("IP address: ");
      Serial.println(WiFi.localIP());
    }
    return true;
  }
  if (wifiUp) {
    wifiUp = false;
    Serial.println("WiFi connection lost");
  }
  if (wifiBackoff.due(now)) {
    wifiBackoff.attempt(now);
    Serial.printf("Connecting to WiFi... (%s)\n", WIFI_SSID);
    WiFi.disconnect();
    WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  }
  return false;
}

// One connect attempt at most per backoff step, so a dead broker never holds up the sensors.
static void maintainLink(Link& link, unsigned long now) {
  if (link.mqtt.connected()) {
    link.mqtt.loop();
    return;
  }
  if (link.up) {
    link.up = false;
    Serial.printf("%s connection lost (state %d)\n", link.name, link.mqtt.state());
  }
  if (!link.backoff.due(now)) return;
  link.backoff.attempt(now);

  const bool secure = link.broker == LAB_SECURE;
  Serial.printf("Connecting to %s broker (%s)...\n", link.name, secure ? "TLS" : "plain TCP");
  char offline[8], online[8];
  lab_status_payload(offline, sizeof offline, false);
  lab_status_payload(online, sizeof online, true);
  // The will marks the board offline (retained) when it drops off without a goodbye.
  const bool ok = secure ? link.mqtt.connect(link.clientId, MQTT_USERNAME, MQTT_PASSWORD, link.statusTopic,
                                             LAB_WILL_QOS, LAB_RETAIN, offline)
                         : link.mqtt.connect(link.clientId, link.statusTopic, LAB_WILL_QOS, LAB_RETAIN, offline);
  if (!ok) {
    Serial.printf("%s connection failed (state %d), retrying in %lu s\n", link.name, link.mqtt.state(),
                  (unsigned long)(link.backoff.waitMs / 1000));
    return;
  }
  link.up = true;
  link.backoff.succeeded();
  link.mqtt.publish(link.statusTopic, online, LAB_RETAIN);
  Serial.printf("%s connection established!\n", link.name);
}

static bool publish(Link& link, const char* topic, const char* payload) {
  if (!link.mqtt.connected()) {
    Serial.printf("%s broker not connected, %s not sent\n", link.name, topic);
    return false;
  }
  if (!link.mqtt.publish(topic, payload, LAB_RETAIN)) {
    Serial.printf("%s publish failed: %s\n", link.name, topic);
    return false;
  }
  return true;
}

static void publishDht() {
  const float t = dht.readTemperature();
  const float h = dht.readHumidity();
  char payload[LAB_PAYLOAD_MAX];
  if (lab_dht_payload(payload, sizeof payload, t, h) < 0) {
    // A failed DHT11 read gives NaN; publishing it would put garbage on the dashboard.
    Serial.println(isnan(t) || isnan(h) ? "DHT11 read failed (NaN), nothing published"
                                        : "DHT11 reading out of range, nothing published");
    return;
  }
  char ts[16], hs[16];
  lab_format_tenths(ts, sizeof ts, t);
  lab_format_tenths(hs, sizeof hs, h);
  if (publish(secureLink, topicDht, payload))
    Serial.printf("Published temperature: %s C, humidity: %s %% (SECURE, TLS)\n", ts, hs);
}

static void publishLight() {
  const int raw = analogRead(LAB_PIN_LDR);
  char payload[LAB_PAYLOAD_MAX];
  if (lab_light_payload(payload, sizeof payload, raw) < 0) return;
  if (publish(secureLink, topicLdr, payload))
    Serial.printf("Published light: %d (%d %%) (SECURE, TLS)\n", raw, lab_light_percent(raw));
}

static void publishMotion(bool motion) {
  char payload[LAB_PAYLOAD_MAX];
  lab_motion_payload(payload, sizeof payload, motion);
  if (publish(insecureLink, topicPir, payload))
    Serial.printf("Published motion: %s (INSECURE, plain text)\n", motion ? "true" : "false");
}

// Every LAB_INTERVAL_MS (the DHT11 needs >= 1 s between reads); motion also as soon as it changes.
static void readSensors(unsigned long now) {
  const bool motion = digitalRead(LAB_PIN_PIR) == HIGH;
  const bool changed = lastMotion >= 0 && motion != (lastMotion == 1);
  lastMotion = motion ? 1 : 0;
  if (readingDone && now - lastReadingMs < LAB_INTERVAL_MS) {
    if (changed) publishMotion(motion);
    return;
  }
  readingDone = true;
  lastReadingMs = now;
  publishDht();
  publishLight();
  publishMotion(motion);
}

static void setupLink(Link& link, const char* host, uint16_t port) {
  lab_client_id(link.clientId, sizeof link.clientId, deviceId, link.broker);
  lab_status_topic(link.statusTopic, sizeof link.statusTopic, link.broker, deviceId);
  link.mqtt.setServer(host, port);  // keeps the pointer: host must be static (it is, from secrets.h)
  link.mqtt.setBufferSize(MQTT_BUFFER_SIZE);
  link.mqtt.setKeepAlive(MQTT_KEEPALIVE_S);
  link.mqtt.setSocketTimeout(5);
}

void setup() {
  Serial.begin(115200);
  Serial.println();
  Serial.println("ESP32 mixed-security lab device");

  pinMode(LAB_PIN_PIR, INPUT);
  analogReadResolution(12);
  analogSetPinAttenuation(LAB_PIN_LDR, ADC_11db);  // full 0-3.3 V range for the divider
  dht.begin();

  // The eFuse MAC makes ids unique per board, so a class of boards can share one broker.
  lab_device_id(deviceId, sizeof deviceId, ESP.getEfuseMac());
  lab_sensor_topic(topicDht, sizeof topicDht, LAB_DHT, deviceId);
  lab_sensor_topic(topicLdr, sizeof topicLdr, LAB_LDR, deviceId);
  lab_sensor_topic(topicPir, sizeof topicPir, LAB_PIR, deviceId);
  Serial.printf("Device id: %s\n", deviceId);

#if LAB_TLS_INSECURE
  secureNet.setInsecure();
  Serial.println("WARNING: LAB_TLS_INSECURE is set, the broker certificate is NOT verified");
#else
  secureNet.setCACert(LAB_CA_CERT);
  if (strstr(LAB_CA_CERT, "BEGIN CERTIFICATE") == NULL || strstr(LAB_CA_CERT, "PASTE") != NULL)
    Serial.println("secrets.h: LAB_CA_CERT is still the placeholder, the SECURE connection will fail");
#endif
  secureNet.setHandshakeTimeout(TLS_HANDSHAKE_TIMEOUT_S);
  setupLink(secureLink, BROKER_HOST, LAB_SECURE_PORT);
  setupLink(insecureLink, INSECURE_BROKER_HOST, LAB_INSECURE_PORT);

  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(false);  // wifiReady() retries with backoff instead
}

void loop() {
  const unsigned long now = millis();
  if (!wifiReady(now)) return;
  maintainLink(secureLink, now);
  maintainLink(insecureLink, now);
  readSensors(now);
}
