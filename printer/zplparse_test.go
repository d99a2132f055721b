package printer

import (
	"strconv"
	"strings"
	"testing"
)

// This file holds a small ZPL reader, written for the tests and independent
// of the renderer: it splits a label the way a printer does (a command starts
// at every ^ or ~, whatever comes before) and decodes field data the way ^FH
// says, so the tests can check what a printer would print.

type zplCmd struct {
	prefix byte   // '^' or '~'
	name   string // two letters, upper case
	params string
}

type zplDoc struct {
	cmds []zplCmd
	// fields holds the decoded data of every ^FD: ^FH escapes undone, the
	// >< of ^BC read as >, and the QA, of ^BQ removed.
	fields []string
}

// knownZPL lists the commands the renderer may write.
var knownZPL = map[string]bool{
	"XA": true, "XZ": true, "CI": true, "PW": true, "LL": true, "LH": true, "FO": true,
	"A0": true, "FH": true, "FD": true, "FS": true, "GB": true, "BY": true, "BC": true, "BQ": true,
}

// parseZPL reads zpl and fails t unless it is exactly one label made of
// known commands, each ^FD closed by ^FS.
func parseZPL(t testing.TB, zpl []byte) zplDoc {
	t.Helper()
	s := string(zpl)
	var doc zplDoc
	var hex byte
	var barcode string
	for i := 0; i < len(s); {
		c := s[i]
		if c != '^' && c != '~' {
			if strings.TrimSpace(string(c)) != "" {
				t.Fatalf("stray %q at %d outside a command", c, i)
			}
			i++
			continue
		}
		if i+3 > len(s) {
			t.Fatalf("truncated command at %d", i)
		}
		cmd := zplCmd{prefix: c, name: strings.ToUpper(s[i+1 : i+3])}
		j := i + 3
		for j < len(s) && s[j] != '^' && s[j] != '~' {
			j++
		}
		cmd.params = s[i+3 : j]
		if cmd.name != "FD" {
			cmd.params = strings.TrimRight(cmd.params, "\n")
		}
		i = j
		if c == '~' || !knownZPL[cmd.name] {
			t.Fatalf("unexpected command %c%s%s", c, cmd.name, cmd.params)
		}
		doc.cmds = append(doc.cmds, cmd)
		switch cmd.name {
		case "FH":
			if len(cmd.params) != 1 {
				t.Fatalf("^FH%s: want one indicator", cmd.params)
			}
			hex = cmd.params[0]
		case "BC", "BQ":
			barcode = cmd.name
		case "FD":
			data := cmd.params
			if hex != 0 {
				data = unhex(t, data, hex)
			}
			switch barcode {
			case "BC":
				data = strings.ReplaceAll(data, "><", ">")
			case "BQ":
				var ok bool
				if data, ok = strings.CutPrefix(data, "QA,"); !ok {
					t.Fatalf("^BQ data %q without QA,", data)
				}
			}
			doc.fields = append(doc.fields, data)
		case "FS":
			hex, barcode = 0, ""
		}
	}
	n := len(doc.cmds)
	if n < 2 || doc.cmds[0].name != "XA" || doc.cmds[n-1].name != "XZ" {
		t.Fatalf("label does not start with ^XA and end with ^XZ")
	}
	for k, cmd := range doc.cmds {
		if (cmd.name == "XA" && k != 0) || (cmd.name == "XZ" && k != n-1) {
			t.Fatalf("^%s at command %d: more than one label", cmd.name, k)
		}
		if cmd.name == "FD" && (k+1 >= n || doc.cmds[k+1].name != "FS") {
			t.Fatalf("^FD%s not closed by ^FS", cmd.params)
		}
	}
	return doc
}

// unhex decodes ^FH data: ind followed by two hex digits is that byte.
func unhex(t testing.TB, s string, ind byte) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != ind {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			t.Fatalf("dangling hex indicator in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			t.Fatalf("bad hex escape in %q: %v", s, err)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String()
}
