package httpapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/comptoir/comptoir/cloud"
)

// relayStatement answers GET /v1/relay-points/{tid}/statement?month=YYYY-MM
// (operator key): what the relay point is owed for the month, as JSON or,
// with format=csv, as CSV.
func (s *Server) relayStatement(c *fiber.Ctx) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	st, err := s.Statements.Statement(c.UserContext(), c.Params("tid"), c.Query("month"))
	if err != nil {
		return err
	}
	if format == "csv" {
		return sendCSV(c, "statement-"+st.Terminal+"-"+st.Month+".csv", cloud.StatementHeader, [][]string{st.Record()})
	}
	return c.JSON(st)
}
