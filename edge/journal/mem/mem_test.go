package mem_test

import (
	"testing"

	"github.com/comptoir/comptoir/edge/journal/journaltest"
	"github.com/comptoir/comptoir/edge/journal/mem"
)

// TestContract runs the journal's contract suite on the journal in memory.
func TestContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journaltest.Journal { return mem.New("t-mem") })
}
