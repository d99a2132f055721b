package edge

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRulesCheckParcel(t *testing.T) {
	ra := &ReturnAuthorisation{ID: "ra", MaxG: 5000}
	tests := []struct {
		name    string
		rules   func(*Rules)
		code    Code
		weightG int
		dimsMM  []int
		want    []RefusalCode
	}{
		{"within defaults", nil, Code{}, 30000, []int{500, 500, 500}, nil},
		{"over 30 kg", nil, Code{}, 30001, nil, []RefusalCode{Overweight}},
		{"over the RA's declared limit", nil, Code{RA: ra}, 5001, nil, []RefusalCode{Overweight}},
		{"RA limit above the network's", func(r *Rules) { r.MaxWeightG = 4000 }, Code{RA: ra}, 4500, nil, []RefusalCode{Overweight}},
		{"sum over 150 cm", nil, Code{}, 1000, []int{600, 500, 410}, []RefusalCode{Oversize}},
		{"side over 100 cm, by a millimetre", nil, Code{}, 1000, []int{1001, 100, 100}, []RefusalCode{Oversize}},
		{"31.5 kg network, box 120x60x40", func(r *Rules) {
			r.MaxWeightG, r.MaxSumCM, r.MaxSideCM, r.MaxDimsCM = 31500, 220, 120, []int{120, 60, 40}
		}, Code{}, 31500, []int{400, 1200, 600}, nil},
		{"box limit catches a thick parcel", func(r *Rules) {
			r.MaxSumCM, r.MaxSideCM, r.MaxDimsCM = 220, 120, []int{120, 60, 40}
		}, Code{}, 1000, []int{500, 500, 500}, []RefusalCode{Oversize}},
		{"both", nil, Code{}, 40000, []int{2000, 10, 10}, []RefusalCode{Overweight, Oversize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultRules()
			if tt.rules != nil {
				tt.rules(&r)
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := r.CheckParcel(tt.code, tt.weightG, tt.dimsMM); !slices.Equal(got, tt.want) {
				t.Errorf("CheckParcel = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRulesCheckCode(t *testing.T) {
	r := DefaultRules()
	r.Network = "net-a"
	if got := r.CheckCode(Code{RA: &ReturnAuthorisation{Hazardous: true, Networks: []string{"net-b"}}, Verified: true}); !slices.Equal(got, []RefusalCode{DangerousGoods, WrongNetwork}) {
		t.Errorf("hazardous, other network: %v", got)
	}
	if got := r.CheckCode(Code{RA: &ReturnAuthorisation{Networks: []string{"net-b", "net-a"}}, Verified: true}); got != nil {
		t.Errorf("listed network: %v", got)
	}
	if got := r.CheckCode(Code{Kind: KindTracking}); got != nil {
		t.Errorf("unverified tracking accepted by default: %v", got)
	}
	r.RefuseUnverified = true
	if got := r.CheckCode(Code{Kind: KindTracking}); !slices.Equal(got, []RefusalCode{UnknownIssuer}) {
		t.Errorf("unverified tracking when refused: %v", got)
	}
}

func TestRulesValidate(t *testing.T) {
	for _, mod := range []func(*Rules){
		func(r *Rules) { r.MaxWeightG = 0 },
		func(r *Rules) { r.MaxSumCM = -1 },
		func(r *Rules) { r.ShelfCapacity = 0 },
		func(r *Rules) { r.MaxDimsCM = []int{1, 2} },
	} {
		r := DefaultRules()
		mod(&r)
		if ErrorCode(r.Validate()) != EINVALID {
			t.Errorf("Validate accepted %+v", r)
		}
	}
}

func TestFreeSlot(t *testing.T) {
	if got := freeSlot(nil, 3); got != "001" {
		t.Errorf("empty shelf: %q", got)
	}
	if got := freeSlot([]string{"001", "003"}, 3); got != "002" {
		t.Errorf("gap: %q", got)
	}
	if got := freeSlot([]string{"001", "002", "003"}, 3); got != "" {
		t.Errorf("full shelf: %q", got)
	}
}

func TestPIN(t *testing.T) {
	h, err := HashPIN("4321")
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPIN(h, "4321") || CheckPIN(h, "4322") || CheckPIN("garbage", "4321") {
		t.Error("CheckPIN disagrees with HashPIN")
	}
	h2, _ := HashPIN("4321")
	if h == h2 {
		t.Error("two hashes of one PIN are equal: no salt")
	}
	for _, bad := range []string{"123", "12a4", "1234567890123"} {
		if _, err := HashPIN(bad); ErrorCode(err) != EINVALID {
			t.Errorf("HashPIN(%q) = %v, want INVALID", bad, err)
		}
	}
}

func TestErrorCode(t *testing.T) {
	if ErrorCode(nil) != "" || ErrorCode(errPlain("x")) != EINTERNAL || ErrorMessage(errPlain("secret detail")) != "Internal error." {
		t.Error("plain errors must be INTERNAL with a generic message")
	}
	e := Refuse(Expired, "late")
	if ErrorCode(e) != string(Expired) || !slices.Equal(Refusals(e), []RefusalCode{Expired}) {
		t.Errorf("Refuse: %v", e)
	}
}

type errPlain string

func (e errPlain) Error() string { return string(e) }

// TestRulesJSON reads the rules' durations as text, as the other durations
// of the config, and as the nanoseconds configs and commands had before;
// writes them as text; keeps fields the JSON does not name.
func TestRulesJSON(t *testing.T) {
	tests := []struct {
		json        string
		grace, hold time.Duration
		err         bool
	}{
		{`{"cancel_grace":"10m","hold_time":"48h"}`, 10 * time.Minute, 48 * time.Hour, false},
		{`{"cancel_grace":600000000000}`, 10 * time.Minute, 72 * time.Hour, false},
		{`{"max_weight_g":25000}`, 15 * time.Minute, 72 * time.Hour, false},
		{`{"cancel_grace":"ten minutes"}`, 0, 0, true},
		{`{"hold_time":true}`, 0, 0, true},
	}
	for _, tt := range tests {
		r := DefaultRules()
		err := json.Unmarshal([]byte(tt.json), &r)
		if (err != nil) != tt.err {
			t.Fatalf("%s: err = %v, want error %v", tt.json, err, tt.err)
		}
		if err == nil && (r.CancelGrace != tt.grace || r.HoldTime != tt.hold) {
			t.Fatalf("%s: cancel_grace %v, hold_time %v; want %v, %v", tt.json, r.CancelGrace, r.HoldTime, tt.grace, tt.hold)
		}
	}
	r := DefaultRules()
	r.MaxWeightG = 25000
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"cancel_grace":"15m0s"`) || !strings.Contains(string(b), `"hold_time":"72h0m0s"`) || !strings.Contains(string(b), `"max_weight_g":25000`) {
		t.Fatalf("marshalled rules = %s", b)
	}
	var back Rules
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip = %+v, %v; want %+v", back, err, r)
	}
}
