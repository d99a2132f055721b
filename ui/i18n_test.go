package ui

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/edge"
)

// TestCatalogs checks the kiosk's catalogs: French and English have the
// same keys, every key the page and the scripts ask for is in them, every
// refusal and printer state has its sentence, and no script or page holds
// inline code or styles the Content-Security-Policy would block.
func TestCatalogs(t *testing.T) {
	cats := map[string]map[string]string{}
	for _, lang := range []string{"fr", "en"} {
		b, err := fs.ReadFile(static, "assets/i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		cats[lang] = m
	}
	for k := range cats["fr"] {
		if _, ok := cats["en"][k]; !ok && !strings.HasSuffix(k, "_one") {
			t.Errorf("key %q in fr.json, not in en.json", k)
		}
	}
	for k := range cats["en"] {
		if _, ok := cats["fr"][k]; !ok && !strings.HasSuffix(k, "_one") {
			t.Errorf("key %q in en.json, not in fr.json", k)
		}
	}

	used := map[string]string{}
	html, _ := fs.ReadFile(static, "assets/index.html")
	for _, m := range regexp.MustCompile(`data-i18n(?:-aria|-alt)?="([^"]+)"`).FindAllStringSubmatch(string(html), -1) {
		used[m[1]] = "index.html"
	}
	if regexp.MustCompile(`<script>|<style|style="|\son[a-z]+="`).Match(html) {
		t.Error("index.html has inline script, style or event handler attributes: the CSP blocks them")
	}
	scripts, _ := fs.Glob(static, "assets/*.js")
	// t("key"), tn("key", n) and tOr("prefix_" + code, "fallback").
	call := regexp.MustCompile(`\bt(?:n|Or)?\("([A-Za-z_.]+)"(?:[^,()]*, "([A-Za-z_.]+)")?`)
	for _, s := range scripts {
		b, _ := fs.ReadFile(static, s)
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], "_") { // a prefix, as in t("refusal_" + code): checked below
				used[m[1]] = s
			}
			if m[2] != "" {
				used[m[2]] = s
			}
		}
		for _, m := range regexp.MustCompile(`error: "([a-z_]+)"`).FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = s // parseWeight's errors, shown with t(w.error)
		}
		if strings.Contains(string(b), ".innerHTML") || strings.Contains(string(b), "eval(") {
			t.Errorf("%s uses innerHTML or eval", s)
		}
	}
	for _, r := range []edge.RefusalCode{edge.Unreadable, edge.UnknownFormat, edge.BadSignature, edge.UnknownIssuer, edge.Expired,
		edge.NotYetValid, edge.Revoked, edge.Duplicate, edge.Overweight, edge.Oversize, edge.DangerousGoods, edge.WrongNetwork,
		edge.ShelfFull, edge.BadCheckDigit, edge.StorageFull} {
		used["refusal_"+string(r)] = "edge refusal codes"
	}
	for _, p := range []string{edge.PrinterPaperOut, edge.PrinterHeadOpen, edge.PrinterPaused, edge.PrinterUnreachable, edge.PrinterFailing} {
		used["printer_"+p] = "edge printer states"
	}
	for _, r := range []string{edge.ReasonChangedMind, edge.ReasonNotAsDescribed, edge.ReasonDamaged, edge.ReasonWrongSize,
		edge.ReasonDefective, edge.ReasonOther} {
		used["reason_"+string(r)] = "edge return reasons"
	}
	for _, op := range []edge.OpType{edge.OpReturnDeposited, edge.OpReturnRefused, edge.OpReturnCancelled, edge.OpInstoreReceived,
		edge.OpParcelHandedOver, edge.OpManifestClosed, edge.OpDayClosed} {
		used["op_"+string(op)] = "edge operation types"
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for lang, cat := range cats {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s.json has no %q (used by %s)", lang, k, used[k])
			}
		}
	}
	if len(keys) < 100 {
		t.Errorf("only %d keys found in use: the patterns above no longer match the scripts", len(keys))
	}
}
