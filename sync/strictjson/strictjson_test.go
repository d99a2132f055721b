package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

type item struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

type rules struct{ max int }

func (r *rules) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.max = m["Max"]
	return nil
}

type request struct {
	Tracking string            `json:"tracking"`
	Items    []item            `json:"items"`
	ByName   map[string]item   `json:"by_name"`
	Rules    *rules            `json:"rules"`
	Data     json.RawMessage   `json:"data"`
	Labels   map[string]string `json:"labels"`
	Untagged string
}

func TestCheckCase(t *testing.T) {
	tests := []struct {
		name, body, err string
	}{
		{"exact keys", `{"tracking":"X","items":[{"sku":"A","qty":1}],"Untagged":"u"}`, ""},
		{"unknown keys are the decoder's to ignore", `{"tracking":"X","extra":{"Tracking":1}}`, ""},
		{"top-level key in another case", `{"trACking":"X"}`, `trACking: unknown key: keys are case-sensitive (did you mean "tracking"?)`},
		{"an untagged field in another case", `{"untagged":"u"}`, `untagged: unknown key: keys are case-sensitive (did you mean "Untagged"?)`},
		{"in a list", `{"items":[{"sku":"A"},{"SKU":"B"}]}`, `items[1].SKU: unknown key: keys are case-sensitive (did you mean "sku"?)`},
		{"in a map's value", `{"by_name":{"a":{"Qty":2}}}`, `by_name.a.Qty: unknown key`},
		{"a map's own keys are free", `{"labels":{"Tracking":"x","TRACKING":"y"}}`, ""},
		{"Kelvin sign folds to k as encoding/json folds it", `{"items":[{"s\u212Au":"A"}]}`, `unknown key: keys are case-sensitive (did you mean "sku"?)`},
		{"a type that decodes itself keeps its own keys", `{"rules":{"Max":3}}`, ""},
		{"raw data is not looked into", `{"data":{"Tracking":"x"}}`, ""},
		{"wrong shapes are left to the decoder", `{"items":{"sku":"A"},"by_name":[1]}`, ""},
		{"null", `null`, ""},
		{"not an object", `[1,2]`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckCase([]byte(tc.body), &request{}, "the body")
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("CheckCase(%s) = %v, want nil", tc.body, err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("CheckCase(%s) = %v, want an error with %q", tc.body, err, tc.err)
			}
		})
	}
}

// TestCheckCaseFindsWhatDecodingTakes checks the premise: encoding/json
// does take a key in another case as the field, so a body that CheckCase
// refuses would otherwise have been decoded into it.
func TestCheckCaseFindsWhatDecodingTakes(t *testing.T) {
	body := []byte(`{"items":[{"SKU":"B"}]}`)
	var r request
	if err := json.Unmarshal(body, &r); err != nil || len(r.Items) != 1 || r.Items[0].SKU != "B" {
		t.Fatalf("encoding/json no longer matches keys without regard to case (%v, %+v): CheckCase may be dropped", err, r)
	}
	if CheckCase(body, &r, "the body") == nil {
		t.Fatal("CheckCase took SKU for sku")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct{ body, err string }{
		{`{"tracking":"X","items":[{"sku":"A","qty":1}]}`, ""},
		{`{"extra":1}`, "extra: unknown key (known: Untagged, by_name, data, items, labels, rules, tracking)"},
		{`{"Tracking":"X"}`, `Tracking: unknown key: keys are case-sensitive (did you mean "tracking"?)`},
		{`{"items":[{"qty":"one"}]}`, "items[0].qty: want a whole number, not string"},
		{`{"items":{"sku":"A"}}`, "items: want a list"},
		{`[1]`, "the body: want an object"},
		{`{"tracking":`, "line 1, column 13: unexpected end of JSON input"},
	}
	for _, tc := range tests {
		err := Check([]byte(tc.body), &request{}, "the body")
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("Check(%s) = %v, want nil", tc.body, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Check(%s) = %v, want an error with %q", tc.body, err, tc.err)
		}
	}
}
