// Runs the real sketch on the host against fake hardware, Wi-Fi and brokers (the stub
// headers' definitions live here) through a fixed 60 s script, and prints every event as a
// JSON line. test/firmware/firmware.test.ts checks the log against lib/lab-device.ts.
//
// Script: Wi-Fi associates 1.5 s after begin(); the secure broker refuses the first
// connect (not authorized); the insecure broker drops the link at 20 s and refuses
// connects until 25 s; Wi-Fi drops at 40 s;
// the PIR is high from 4.6 s to 9.2 s; DHT and ADC reads walk through fixed tables.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <map>
#include <string>

#include "Arduino.h"
#include "DHT.h"
#include "PubSubClient.h"
#include "WiFi.h"
#include "WiFiClientSecure.h"

static const uint64_t FAKE_MAC = 0x0000f0e1d2c3b4a5ULL;
static unsigned long nowMs = 0;
static bool inLoop = false;

static void emit_string(const char* s) {
  putchar('"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void emit_number(double v) {
  if (isnan(v)) printf("null");
  else printf("%.17g", v);
}

// ---- Arduino core ----
HardwareSerial Serial;
EspClass ESP;
WiFiClass WiFi;

unsigned long millis() { return nowMs; }
void delay(uint32_t ms) {
  printf("{\"ev\":\"delay\",\"t\":%lu,\"ms\":%u,\"inLoop\":%s}\n", nowMs, ms, inLoop ? "true" : "false");
}
void pinMode(uint8_t, uint8_t) {}
void analogReadResolution(uint8_t) {}
void analogSetPinAttenuation(uint8_t, adc_attenuation_t) {}
uint64_t EspClass::getEfuseMac() { return FAKE_MAC; }

int digitalRead(uint8_t) { return nowMs >= 4600 && nowMs < 9200 ? HIGH : LOW; }

uint16_t analogRead(uint8_t) {
  static const uint16_t table[] = {0, 2048, 4095, 21, 1234};
  static unsigned i = 0;
  uint16_t v = table[i < 5 ? i : 4];
  i++;
  printf("{\"ev\":\"adc_read\",\"t\":%lu,\"raw\":%u}\n", nowMs, v);
  return v;
}

static std::string serialLine;
static void serial_text(const char* s) {
  for (; *s; s++) {
    if (*s == '\n') {
      printf("{\"ev\":\"serial\",\"t\":%lu,\"line\":", nowMs);
      emit_string(serialLine.c_str());
      printf("}\n");
      serialLine.clear();
    } else {
      serialLine += *s;
    }
  }
}
void HardwareSerial::begin(unsigned long) {}
size_t HardwareSerial::print(const char* s) {
  serial_text(s);
  return strlen(s);
}
size_t HardwareSerial::println(const char* s) {
  serial_text(s);
  serial_text("\n");
  return strlen(s) + 1;
}
size_t HardwareSerial::println() { return println(""); }
size_t HardwareSerial::println(const IPAddress& ip) {
  char s[16];
  snprintf(s, sizeof s, "%u.%u.%u.%u", ip.octets[0], ip.octets[1], ip.octets[2], ip.octets[3]);
  return println(s);
}
size_t HardwareSerial::printf(const char* fmt, ...) {
  char s[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s, sizeof s, fmt, ap);
  va_end(ap);
  serial_text(s);
  return strlen(s);
}

// ---- Wi-Fi ----
static long wifiBegunAt = -1;
bool WiFiClass::mode(wifi_mode_t) { return true; }
bool WiFiClass::setAutoReconnect(bool) { return true; }
wl_status_t WiFiClass::begin(const char* ssid, const char*) {
  printf("{\"ev\":\"wifi_begin\",\"t\":%lu,\"ssid\":", nowMs);
  emit_string(ssid);
  printf("}\n");
  wifiBegunAt = (long)nowMs;
  return WL_DISCONNECTED;
}
bool WiFiClass::disconnect(bool, bool) {
  wifiBegunAt = -1;
  return true;
}
wl_status_t WiFiClass::status() {
  return wifiBegunAt >= 0 && (long)nowMs - wifiBegunAt >= 1500 ? WL_CONNECTED : WL_DISCONNECTED;
}
IPAddress WiFiClass::localIP() { return IPAddress{{192, 0, 2, 10}}; }  // TEST-NET-1, printed only

void WiFiClientSecure::setCACert(const char* ca) {
  printf("{\"ev\":\"tls\",\"mode\":\"ca\",\"ca\":");
  emit_string(ca);
  printf("}\n");
}
void WiFiClientSecure::setInsecure() { printf("{\"ev\":\"tls\",\"mode\":\"insecure\"}\n"); }
void WiFiClientSecure::setHandshakeTimeout(unsigned long) {}

// ---- DHT11 ----
DHT::DHT(uint8_t, uint8_t, uint8_t) {}
void DHT::begin(uint8_t) {}
static unsigned dhtReads = 0;
static const float dhtTable[][2] = {{28.5f, 65}, {28.1f, 64}, {NAN, NAN}, {49.9f, 90}, {51, 60}, {23.4f, 40}};
float DHT::readTemperature(bool, bool) {
  const float* r = dhtTable[dhtReads < 6 ? dhtReads : 5];
  printf("{\"ev\":\"dht_read\",\"t\":%lu,\"temperature\":", nowMs);
  emit_number(r[0]);
  printf(",\"humidity\":");
  emit_number(r[1]);
  printf("}\n");
  return r[0];
}
float DHT::readHumidity(bool) { return dhtTable[dhtReads < 6 ? dhtReads++ : 5][1]; }

// ---- MQTT brokers ----
struct FakeLink {
  std::string host;
  uint16_t port = 0;
  bool connected = false;
  int state = -1;  // MQTT_DISCONNECTED
  int attempts = 0;
};
static std::map<const PubSubClient*, FakeLink>& links() {
  static std::map<const PubSubClient*, FakeLink> m;  // built on first use: safe from static init order
  return m;
}

PubSubClient::PubSubClient(Client&) {}
PubSubClient& PubSubClient::setServer(const char* domain, uint16_t port) {
  links()[this].host = domain;
  links()[this].port = port;
  return *this;
}
PubSubClient& PubSubClient::setKeepAlive(uint16_t) { return *this; }
PubSubClient& PubSubClient::setSocketTimeout(uint16_t) { return *this; }
bool PubSubClient::setBufferSize(uint16_t) { return true; }

static bool fake_connect(const PubSubClient* c, const char* id, const char* user, const char* pass,
                         const char* willTopic, uint8_t willQos, bool willRetain, const char* will) {
  FakeLink& l = links()[c];
  l.attempts++;
  const bool wifi = WiFi.status() == WL_CONNECTED;
  const bool refused = l.port == 8883 && l.attempts == 1;                       // wrong password once
  const bool down = l.port == 1883 && nowMs >= 20000 && nowMs < 25000;          // broker restarting
  const bool ok = wifi && !refused && !down;
  l.connected = ok;
  l.state = ok ? 0 : refused ? 5 : -2;  // 5: not authorized, -2: connect failed
  printf("{\"ev\":\"connect\",\"t\":%lu,\"host\":", nowMs);
  emit_string(l.host.c_str());
  printf(",\"port\":%u,\"client\":", l.port);
  emit_string(id);
  printf(",\"user\":");
  if (user) emit_string(user); else printf("null");
  printf(",\"pass\":");
  if (pass) emit_string(pass); else printf("null");
  printf(",\"willTopic\":");
  emit_string(willTopic);
  printf(",\"willQos\":%u,\"willRetain\":%s,\"will\":", willQos, willRetain ? "true" : "false");
  emit_string(will);
  printf(",\"ok\":%s}\n", ok ? "true" : "false");
  return ok;
}
bool PubSubClient::connect(const char* id, const char* wt, uint8_t wq, bool wr, const char* wm) {
  return fake_connect(this, id, NULL, NULL, wt, wq, wr, wm);
}
bool PubSubClient::connect(const char* id, const char* u, const char* p, const char* wt, uint8_t wq, bool wr,
                           const char* wm) {
  return fake_connect(this, id, u, p, wt, wq, wr, wm);
}
bool PubSubClient::publish(const char* topic, const char* payload, bool retained) {
  FakeLink& l = links()[this];
  printf("{\"ev\":\"publish\",\"t\":%lu,\"port\":%u,\"topic\":", nowMs, l.port);
  emit_string(topic);
  printf(",\"payload\":");
  emit_string(payload);
  printf(",\"retain\":%s,\"connected\":%s}\n", retained ? "true" : "false", l.connected ? "true" : "false");
  return l.connected;
}
bool PubSubClient::loop() { return links()[this].connected; }
bool PubSubClient::connected() { return links()[this].connected; }
int PubSubClient::state() { return links()[this].state; }

static void drop(uint16_t port) {
  for (auto& kv : links())
    if (port == 0 || kv.second.port == port) {
      kv.second.connected = false;
      kv.second.state = -3;  // MQTT_CONNECTION_LOST
    }
}

int main() {
  setup();
  inLoop = true;
  for (nowMs = 0; nowMs <= 60000; nowMs += 100) {
    if (nowMs == 20000) drop(1883);
    if (nowMs == 40000) {
      WiFi.disconnect();
      drop(0);
    }
    loop();
  }
  printf("{\"ev\":\"end\",\"t\":%lu}\n", nowMs);
  return 0;
}
