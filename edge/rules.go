package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Rules are the counter limits of one carrier network. Real networks differ
// (one takes 25 kg, another 31.5 kg and 120x60x40 cm), so every field comes
// from config; DefaultRules gives DESIGN.md's defaults.
type Rules struct {
	// Network is this terminal's network id, matched against an RA's "net".
	Network string `json:"network"`
	// MaxWeightG is the heaviest parcel accepted, in grams.
	MaxWeightG int `json:"max_weight_g"`
	// MaxSumCM bounds length + width + height, in centimetres.
	MaxSumCM int `json:"max_sum_cm"`
	// MaxSideCM bounds the longest side, in centimetres.
	MaxSideCM int `json:"max_side_cm"`
	// MaxDimsCM, when set, bounds each side after sorting both (a box limit
	// such as 120x60x40 cm).
	MaxDimsCM []int `json:"max_dims_cm,omitempty"`
	// AllowDangerousGoods accepts RAs marked hz; off by default.
	AllowDangerousGoods bool `json:"allow_dangerous_goods"`
	// RefuseUnverified refuses tracking barcodes that come with no RA.
	RefuseUnverified bool `json:"refuse_unverified"`
	// ShelfCapacity is the number of parcels the shelf holds.
	ShelfCapacity int `json:"shelf_capacity"`
	// CancelGrace is how long after a deposit a clerk may cancel it.
	CancelGrace time.Duration `json:"cancel_grace"`
	// HoldTime is how long a parcel may wait on the shelf for the carrier
	// before it is flagged overdue.
	HoldTime time.Duration `json:"hold_time"`
}

// UnmarshalJSON reads rules whose durations are text ("15m", "72h"), as
// every other duration of the config, or, as configs and commands written
// before them have it, a number of nanoseconds. Fields absent keep their
// value.
func (r *Rules) UnmarshalJSON(b []byte) error {
	type plain Rules // without the methods, so no recursion
	aux := struct {
		*plain
		CancelGrace ruleDuration `json:"cancel_grace"`
		HoldTime    ruleDuration `json:"hold_time"`
	}{plain: (*plain)(r), CancelGrace: ruleDuration(r.CancelGrace), HoldTime: ruleDuration(r.HoldTime)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.CancelGrace, r.HoldTime = time.Duration(aux.CancelGrace), time.Duration(aux.HoldTime)
	return nil
}

// MarshalJSON writes the durations as text.
func (r Rules) MarshalJSON() ([]byte, error) {
	type plain Rules
	return json.Marshal(struct {
		plain
		CancelGrace string `json:"cancel_grace"`
		HoldTime    string `json:"hold_time"`
	}{plain(r), r.CancelGrace.String(), r.HoldTime.String()})
}

// ruleDuration is a duration in JSON as text or as nanoseconds.
type ruleDuration time.Duration

func (d *ruleDuration) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(b, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: want a number and a unit, as \"15m\" or \"72h\"", s)
		}
		*d = ruleDuration(v)
		return nil
	}
	var ns int64
	if err := json.Unmarshal(b, &ns); err != nil {
		return fmt.Errorf("duration %s: want text, as \"15m\", or nanoseconds", b)
	}
	*d = ruleDuration(ns)
	return nil
}

// DefaultRules returns the limits of DESIGN.md: 30 kg, L+W+H at most 150 cm,
// longest side at most 100 cm, no dangerous goods.
func DefaultRules() Rules {
	return Rules{
		MaxWeightG:    30000,
		MaxSumCM:      150,
		MaxSideCM:     100,
		ShelfCapacity: 200,
		CancelGrace:   15 * time.Minute,
		HoldTime:      72 * time.Hour,
	}
}

// Validate reports the first field of r that makes no sense.
func (r Rules) Validate() error {
	switch {
	case r.MaxWeightG <= 0:
		return Errorf(EINVALID, "rules: max_weight_g must be positive")
	case r.MaxSumCM <= 0:
		return Errorf(EINVALID, "rules: max_sum_cm must be positive")
	case r.MaxSideCM <= 0:
		return Errorf(EINVALID, "rules: max_side_cm must be positive")
	case r.ShelfCapacity <= 0:
		return Errorf(EINVALID, "rules: shelf_capacity must be positive")
	case r.CancelGrace < 0:
		return Errorf(EINVALID, "rules: cancel_grace must not be negative")
	case r.HoldTime < 0:
		return Errorf(EINVALID, "rules: hold_time must not be negative")
	case len(r.MaxDimsCM) != 0 && len(r.MaxDimsCM) != 3:
		return Errorf(EINVALID, "rules: max_dims_cm must have three sides")
	}
	return nil
}

// CheckCode returns the refusals that follow from the code alone, before the
// parcel is weighed: dangerous goods, wrong network, unverified parcels.
func (r Rules) CheckCode(c Code) []RefusalCode {
	var out []RefusalCode
	if c.RA != nil {
		if c.RA.Hazardous && !r.AllowDangerousGoods {
			out = append(out, DangerousGoods)
		}
		if len(c.RA.Networks) > 0 && !slices.Contains(c.RA.Networks, r.Network) {
			out = append(out, WrongNetwork)
		}
	}
	if !c.Verified && r.RefuseUnverified {
		out = append(out, UnknownIssuer)
	}
	return out
}

// CheckParcel returns the refusals that follow from the parcel's measured
// weight and dimensions, against both the network's limits and the RA's
// declared limits. Unknown dimensions (nil) are not checked.
func (r Rules) CheckParcel(c Code, weightG int, dimsMM []int) []RefusalCode {
	var out []RefusalCode
	limit := r.MaxWeightG
	if c.RA != nil && c.RA.MaxG > 0 && c.RA.MaxG < limit {
		limit = c.RA.MaxG
	}
	if weightG > limit {
		out = append(out, Overweight)
	}
	if len(dimsMM) == 3 && r.oversize(dimsMM) {
		out = append(out, Oversize)
	}
	return out
}

func (r Rules) oversize(dimsMM []int) bool {
	cm := make([]int, 3)
	for i, d := range dimsMM {
		cm[i] = (d + 9) / 10 // round up: 1001 mm is over 100 cm
	}
	slices.Sort(cm)
	if cm[0]+cm[1]+cm[2] > r.MaxSumCM || cm[2] > r.MaxSideCM {
		return true
	}
	if len(r.MaxDimsCM) == 3 {
		box := slices.Clone(r.MaxDimsCM)
		slices.Sort(box)
		for i := range cm {
			if cm[i] > box[i] {
				return true
			}
		}
	}
	return false
}

// ValidateParcel checks the measurements a clerk typed in.
func ValidateParcel(weightG int, dimsMM []int) error {
	if weightG <= 0 || weightG > 1_000_000 {
		return Errorf(EINVALID, "Weight must be between 1 g and 1000 kg, got %d g.", weightG)
	}
	if dimsMM != nil {
		if len(dimsMM) != 3 {
			return Errorf(EINVALID, "Dimensions need three sides in millimetres.")
		}
		for _, d := range dimsMM {
			if d <= 0 || d > 10_000 {
				return Errorf(EINVALID, "Each side must be between 1 and 10000 mm, got %s.", fmt.Sprint(dimsMM))
			}
		}
	}
	return nil
}
