// Host stub: only the declarations esp32_mixed_security.ino uses, so g++ can check it.
// Not the Arduino API; firmware/test/sketch_harness.cpp supplies fake definitions.
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define HIGH 1
#define LOW 0
#define INPUT 0x01

typedef enum { ADC_0db, ADC_2_5db, ADC_6db, ADC_11db } adc_attenuation_t;

unsigned long millis();
void delay(uint32_t ms);
void pinMode(uint8_t pin, uint8_t mode);
int digitalRead(uint8_t pin);
uint16_t analogRead(uint8_t pin);
void analogReadResolution(uint8_t bits);
void analogSetPinAttenuation(uint8_t pin, adc_attenuation_t attenuation);

class IPAddress {
 public:
  uint8_t octets[4];
};

class HardwareSerial {
 public:
  void begin(unsigned long baud);
  size_t print(const char* s);
  size_t println(const char* s);
  size_t println(const IPAddress& ip);
  size_t println();
  size_t printf(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
};
extern HardwareSerial Serial;

class EspClass {
 public:
  uint64_t getEfuseMac();
};
extern EspClass ESP;

class Client {
 public:
  virtual ~Client() {}
};

void setup();
void loop();
