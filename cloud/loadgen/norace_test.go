//go:build !race

package loadgen_test

// fleetSize is the fleet of the quick tests; BenchmarkFleet in
// cloud/cmd/comptoir-cloud measures tens of thousands.
const fleetSize = 500
