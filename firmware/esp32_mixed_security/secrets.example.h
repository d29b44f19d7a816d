// Copy this file to secrets.h (same folder) and fill it in. secrets.h is git-ignored:
// never commit real Wi-Fi or broker credentials.
#pragma once

#define WIFI_SSID "your-wifi-ssid"
#define WIFI_PASSWORD "your-wifi-password"

// Host name or IP of the lab brokers (secure on 8883, insecure on 1883). For TLS it must
// match a name in the broker certificate, or the handshake fails.
#define BROKER_HOST "your-broker-host"
// Uncomment if the insecure broker runs on another machine.
// #define INSECURE_BROKER_HOST "your-insecure-broker-host"

// The secure broker's esp32 user and the password its generator printed (brokers/README.md).
#define MQTT_USERNAME "your-mqtt-username"
#define MQTT_PASSWORD "your-mqtt-password"

// The lab CA certificate, brokers/secure/generated/ca.crt (public; never a private key).
// The board only trusts a broker certificate signed by it.
static const char LAB_CA_CERT[] = R"PEM(
-----BEGIN CERTIFICATE-----
PASTE the lab CA certificate here
-----END CERTIFICATE-----
)PEM";

// 1 = setInsecure(): still encrypted, but the broker certificate is NOT checked, so anyone
// on the network can impersonate the broker and collect the password. Only to debug a CA
// problem for a moment; keep 0 for the lesson.
#define LAB_TLS_INSECURE 0
