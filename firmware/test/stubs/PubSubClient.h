// Host stub (declarations only) of knolleary/PubSubClient 2.8, see Arduino.h.
#pragma once
#include "Arduino.h"

class PubSubClient {
 public:
  explicit PubSubClient(Client& client);
  PubSubClient& setServer(const char* domain, uint16_t port);
  PubSubClient& setKeepAlive(uint16_t keepAlive);
  PubSubClient& setSocketTimeout(uint16_t timeout);
  bool setBufferSize(uint16_t size);
  bool connect(const char* id, const char* willTopic, uint8_t willQos, bool willRetain, const char* willMessage);
  bool connect(const char* id, const char* user, const char* pass, const char* willTopic, uint8_t willQos,
               bool willRetain, const char* willMessage);
  bool publish(const char* topic, const char* payload, bool retained);
  bool loop();
  bool connected();
  int state();
};
