package httpapi

import (
	"bytes"
	"encoding/csv"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// returnsReport answers GET /v1/reports/returns?from=DAY&to=DAY&by=DIM in
// the key's scope (an issuer key: its merchant's returns; an operator key:
// the network's), as {"rows":[...]} or, with format=csv, as CSV.
func (s *Server) returnsReport(c *fiber.Ctx) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	rows, err := s.Reports.Returns(c.UserContext(), scope(c), c.Query("from"), c.Query("to"), c.Query("by"))
	if err != nil {
		return err
	}
	if format == "csv" {
		return sendCSV(c, "returns-"+c.Query("by")+".csv", cloud.ReportHeader, records(rows))
	}
	return c.JSON(fiber.Map{"rows": rows})
}

// refusalsReport answers GET /v1/reports/refusals?from=DAY&to=DAY
// (operator key): the relay points' refused codes by reason, as
// {"rows":[...]} or, with format=csv, as CSV.
func (s *Server) refusalsReport(c *fiber.Ctx) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	rows, err := s.Reports.Refusals(c.UserContext(), scope(c), c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	if format == "csv" {
		return sendCSV(c, "refusals.csv", cloud.RefusalHeader, records(rows))
	}
	return c.JSON(fiber.Map{"rows": rows})
}

// reportFormat returns the format a report is asked in: json (the
// default) or csv.
func reportFormat(c *fiber.Ctx) (string, error) {
	switch f := c.Query("format", "json"); f {
	case "json", "csv":
		return f, nil
	default:
		return "", edge.Errorf(edge.EINVALID, "format must be json or csv.")
	}
}

// sendCSV answers a header line and records as text/csv, named filename
// when saved. Cells are made inert for spreadsheets (csvCell).
func sendCSV(c *fiber.Ctx, filename string, header []string, records [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header) // into a buffer: cannot fail
	for _, rec := range records {
		cells := make([]string, len(rec))
		for i, v := range rec {
			cells[i] = csvCell(v)
		}
		_ = w.Write(cells)
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	return c.Send(b.Bytes())
}

// csvCell returns v as a cell that a spreadsheet shows and does not run:
// text that starts like a formula (=, +, -, @, tab or carriage return)
// gets a leading apostrophe (OWASP's advice against CSV injection). A
// report's keys are merchants' text (reasons, SKUs) that the network's
// operator opens; numbers are left as they are.
func csvCell(v string) string {
	if v == "" || !strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}

// records returns the CSV records of rows.
func records[R interface{ Record() []string }](rows []R) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r.Record()
	}
	return out
}
