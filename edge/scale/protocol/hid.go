package protocol

import (
	"math/big"

	"github.com/comptoir/comptoir/edge"
)

// HIDWeightReportID is the report id of the weight report of USB scales of
// the HID Point of Sale usage page (0x8D), as the scales send it: id,
// status, unit, scaling exponent, weight (16 bits, little endian).
const HIDWeightReportID = 3

// HID scale status values (Scale Status usages, 0x70 to 0x78, by index).
const (
	hidFault          = 1
	hidStableZero     = 2
	hidInMotion       = 3
	hidStable         = 4
	hidUnderZero      = 5
	hidOverWeight     = 6
	hidNeedsCalibrate = 7
	hidNeedsRezero    = 8
)

// hidUnits are the Weight Unit values (usages 0x50 to 0x5C, by index).
// Taels (5) are left out: their weight differs from one country to another.
var hidUnits = map[byte]unit{
	1: milligram, 2: gram, 3: kilogram, 4: carat, 6: grain, 7: pennyweight,
	8: metricTon, 9: shortTon, 10: troyOunce, 11: ounce, 12: pound,
}

// ParseHIDReport reads one report of a USB HID POS scale as a read of its
// hidraw device gives it, the report id first. Another report id is
// ErrNotWeight; a weight report that is not 6 bytes long, or holds an
// unknown status or unit, or an exponent outside -10..10, is an EINVALID
// error.
//
// Under zero, the weight field holds the weight's magnitude: the reading
// is negative. Over the limit, calibration and rezeroing needed carry no
// weight.
func ParseHIDReport(b []byte) (edge.ScaleReading, error) {
	switch {
	case len(b) == 0:
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Empty HID scale report.")
	case b[0] != HIDWeightReportID:
		return edge.ScaleReading{}, ErrNotWeight
	case len(b) != 6:
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "A HID scale weight report has 6 bytes, not %d.", len(b))
	}
	b = b[1:]
	status, unitCode, exp := b[0], b[1], int(int8(b[2]))
	weight := int64(b[3]) | int64(b[4])<<8
	var r edge.ScaleReading
	switch status {
	case hidStableZero, hidStable:
		r.State = edge.ScaleStable
	case hidInMotion:
		r.State = edge.ScaleUnstable
	case hidUnderZero:
		r.State, weight = edge.ScaleNegative, -weight
	case hidOverWeight:
		return edge.ScaleReading{State: edge.ScaleOverload}, nil
	case hidFault, hidNeedsCalibrate, hidNeedsRezero:
		return edge.ScaleReading{State: edge.ScaleFault}, nil
	default:
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Unknown HID scale status %d.", status)
	}
	if status == hidStableZero {
		return edge.ScaleReading{State: edge.ScaleStable}, nil
	}
	u, ok := hidUnits[unitCode]
	if !ok {
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Unknown HID scale unit %d.", unitCode)
	}
	if exp < -10 || exp > 10 {
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "HID scale exponent %d out of range.", exp)
	}
	mg, err := milligrams(big.NewInt(weight), exp, u)
	if err != nil {
		return edge.ScaleReading{}, err
	}
	r.Milligrams = mg
	if mg < 0 && r.State != edge.ScaleNegative {
		r.State = edge.ScaleNegative
	}
	return r, nil
}
