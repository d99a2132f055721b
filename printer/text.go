package printer

import (
	"strconv"

	"github.com/comptoir/comptoir/edge"
)

// addressLines returns the printed lines of a, without empty ones: the name
// (when withName), the street, the postcode and city, the country.
func addressLines(a edge.Address, withName bool) []string {
	lines := make([]string, 0, 4)
	if withName && a.Name != "" {
		lines = append(lines, a.Name)
	}
	if a.Street != "" {
		lines = append(lines, a.Street)
	}
	switch {
	case a.Postcode != "" && a.City != "":
		lines = append(lines, a.Postcode+" "+a.City)
	case a.Postcode != "":
		lines = append(lines, a.Postcode)
	case a.City != "":
		lines = append(lines, a.City)
	}
	if a.Country != "" {
		lines = append(lines, a.Country)
	}
	return lines
}

// formatKg formats grams as kilograms with two decimals, rounded half away
// from zero, with the French decimal comma: 1234 g is "1,23 kg". Label and
// receipt are printed in French and must agree with each other and with the
// kiosk's French screen, which shows the same "1,23 kg".
func formatKg(grams int) string {
	const sep = ','
	b := make([]byte, 0, 16)
	if grams < 0 {
		b = append(b, '-')
		grams = -grams
	}
	cg := (grams + 5) / 10
	b = strconv.AppendInt(b, int64(cg/100), 10)
	b = append(b, sep, byte('0'+cg%100/10), byte('0'+cg%10))
	return string(append(b, " kg"...))
}
