package journal

import (
	"testing"

	"github.com/comptoir/comptoir/edge/journal/journaltest"
)

// TestContract runs the journal's contract suite on Badger, on disk.
func TestContract(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) journaltest.Journal { return MustOpen(t, "", Config{}) })
}
