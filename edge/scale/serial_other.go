//go:build !linux

package scale

import (
	"os"

	"github.com/comptoir/comptoir/edge"
)

// bauds are the serial speeds a scale may use.
var bauds = map[int]uint32{1200: 0, 2400: 0, 4800: 0, 9600: 0, 19200: 0, 38400: 0, 57600: 0, 115200: 0}

func openSerial(path string, baud int) (*os.File, error) {
	return nil, edge.Errorf(edge.EUNSUPPORTED, "Scales are read on Linux terminals only.")
}

func openHID(path string) (*os.File, error) {
	return nil, edge.Errorf(edge.EUNSUPPORTED, "Scales are read on Linux terminals only.")
}
