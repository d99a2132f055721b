// Package protocol reads the weights that counter scales send: MT-SICS
// lines from a serial scale (sics.go) and weight reports of a USB scale of
// the HID Point of Sale usage page (hid.go). It only parses bytes; the
// device I/O is the scale package's.
package protocol

import (
	"errors"
	"math/big"

	"github.com/comptoir/comptoir/edge"
)

// ErrNotWeight is returned for a well-formed message that carries no
// weight (another HID report, an acknowledgement): skip it.
var ErrNotWeight = errors.New("scale message carries no weight")

// MaxMilligrams bounds a reading: 100 t, more than any counter scale (or
// its overload) shows, and far from int64's limits.
const MaxMilligrams = 100_000_000_000

// unit is a unit of mass as a fraction of a milligram.
type unit struct{ num, den int64 }

var (
	milligram   = unit{1, 1}
	gram        = unit{1_000, 1}
	kilogram    = unit{1_000_000, 1}
	metricTon   = unit{1_000_000_000, 1}
	carat       = unit{200, 1}
	grain       = unit{6_479_891, 100_000}
	pennyweight = unit{155_517_384, 100_000}
	troyOunce   = unit{311_034_768, 10_000}
	ounce       = unit{28_349_523_125, 1_000_000}
	pound       = unit{45_359_237, 100}
	shortTon    = unit{907_184_740_000, 1_000}
)

// milligrams returns mantissa x 10^exp of u in milligrams, rounded to the
// nearest (halves away from zero), or an EINVALID error beyond
// MaxMilligrams.
func milligrams(mantissa *big.Int, exp int, u unit) (int64, error) {
	v := new(big.Rat).SetInt(mantissa)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil))
	if exp < 0 {
		v.Quo(v, p)
	} else {
		v.Mul(v, p)
	}
	v.Mul(v, big.NewRat(u.num, u.den))
	// Round half away from zero: floor(|v| + 1/2), with v's sign.
	neg := v.Sign() < 0
	v.Abs(v)
	v.Add(v, big.NewRat(1, 2))
	q := new(big.Int).Quo(v.Num(), v.Denom())
	if !q.IsInt64() || q.Int64() > MaxMilligrams {
		return 0, edge.Errorf(edge.EINVALID, "The scale's weight is out of range.")
	}
	if neg {
		return -q.Int64(), nil
	}
	return q.Int64(), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
