// Package mosquitto holds the Mosquitto configuration shipped for Comptoir
// (mosquitto.conf, acl) and its test, which runs a real mosquitto with it.
// It has no code of its own.
package mosquitto
