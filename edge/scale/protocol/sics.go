package protocol

import (
	"bytes"
	"math/big"

	"github.com/comptoir/comptoir/edge"
)

// SICSRequest is the MT-SICS command "send the weight immediately", stable
// or not (level 0, which every MT-SICS scale speaks).
const SICSRequest = "SI\r\n"

// MaxSICSLine is the longest MT-SICS line read; a longer one is noise.
const MaxSICSLine = 64

// sicsUnits are the units an MT-SICS weight may carry.
var sicsUnits = map[string]unit{
	"mg": milligram, "g": gram, "kg": kilogram, "t": metricTon, "ct": carat,
	"lb": pound, "oz": ounce, "ozt": troyOunce, "dwt": pennyweight, "GN": grain,
}

// ParseSICS reads one MT-SICS answer line (Mettler Toledo Standard
// Interface Command Set) to S or SI, with or without its CR LF:
//
//	S S      1.234 kg   stable weight
//	S D      1.230 kg   dynamic: the pan is still moving
//	S +                 overload
//	S -                 underload
//	S I                 no weight now (busy): EUNAVAILABLE
//	ES, ET, EL          the scale refused the command: EUNAVAILABLE
//
// A negative stable or dynamic weight is ScaleNegative. Anything else is
// an EINVALID error that says what is wrong.
func ParseSICS(line []byte) (edge.ScaleReading, error) {
	if len(line) > MaxSICSLine {
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "MT-SICS line longer than %d bytes.", MaxSICSLine)
	}
	f := bytes.Fields(bytes.TrimRight(line, "\r\n"))
	if len(f) == 1 && (string(f[0]) == "ES" || string(f[0]) == "ET" || string(f[0]) == "EL") {
		return edge.ScaleReading{}, edge.Errorf(edge.EUNAVAILABLE, "The scale refused the weight request (%s).", f[0])
	}
	if len(f) < 2 || (string(f[0]) != "S" && string(f[0]) != "SI") {
		return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Not an MT-SICS weight line.")
	}
	switch status := string(f[1]); {
	case len(f) == 2 && status == "+":
		return edge.ScaleReading{State: edge.ScaleOverload}, nil
	case len(f) == 2 && status == "-":
		return edge.ScaleReading{State: edge.ScaleNegative}, nil
	case len(f) == 2 && status == "I":
		return edge.ScaleReading{}, edge.Errorf(edge.EUNAVAILABLE, "The scale has no weight to send now.")
	case len(f) == 4 && (status == "S" || status == "D"):
		u, ok := sicsUnits[string(f[3])]
		if !ok {
			return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Unknown MT-SICS unit %q.", f[3])
		}
		mantissa, exp, err := decimal(f[2])
		if err != nil {
			return edge.ScaleReading{}, err
		}
		mg, err := milligrams(mantissa, exp, u)
		if err != nil {
			return edge.ScaleReading{}, err
		}
		r := edge.ScaleReading{Milligrams: mg, State: edge.ScaleStable}
		switch {
		case mg < 0:
			r.State = edge.ScaleNegative
		case status == "D":
			r.State = edge.ScaleUnstable
		}
		return r, nil
	}
	return edge.ScaleReading{}, edge.Errorf(edge.EINVALID, "Not an MT-SICS weight line.")
}

// decimal reads an MT-SICS number ("-0.250", "12", "1.5") as mantissa x
// 10^exp, with at most 12 digits.
func decimal(b []byte) (*big.Int, int, error) {
	bad := edge.Errorf(edge.EINVALID, "The scale's weight %q is not a number.", b)
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	digits, exp, dot := make([]byte, 0, len(b)), 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			if dot {
				exp--
			}
		case c == '.' && !dot:
			dot = true
		default:
			return nil, 0, bad
		}
	}
	if len(digits) == 0 || len(digits) > 12 {
		return nil, 0, bad
	}
	m, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		m.Neg(m)
	}
	return m, exp, nil
}
