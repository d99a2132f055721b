//go:build race

package loadgen_test

// fleetSize is smaller under the race detector, which makes every
// connection's TLS and MQTT several times slower on the shared CI cores.
const fleetSize = 100
