package httpapi

import (
	"encoding/csv"
	"io"
	"mime"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestSendCSV: cells that a spreadsheet would run as formulas come out
// as text, numbers (negative ones too) and plain text unchanged, and the
// file name is quoted whatever it holds.
func TestSendCSV(t *testing.T) {
	records := [][]string{
		{"=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"},
		{"-12", "+3.5", "1e3", "SKU-1", "", "a=b"},
	}
	want := [][]string{
		{"'=HYPERLINK(\"http://x\",\"y\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tcmd", "'\r=1"},
		{"-12", "+3.5", "1e3", "SKU-1", "", "a=b"},
	}
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		return sendCSV(c, `r"; x=".csv`, []string{"a", "b", "c", "d", "e", "f"}, records)
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	got, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(got) != 3 {
		t.Fatalf("csv = %q, %v", body, err)
	}
	for i, row := range want {
		for j, cell := range row {
			if got[i+1][j] != cell {
				t.Errorf("row %d cell %d = %q, want %q", i, j, got[i+1][j], cell)
			}
		}
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] != `r"; x=".csv` {
		t.Errorf("Content-Disposition %q: filename %q, %v", resp.Header.Get("Content-Disposition"), params["filename"], err)
	}
}
