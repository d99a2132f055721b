package badgerstore

import (
	"context"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/edge"
)

// DecommissionTerminal implements cloud.Store.
func (s *Store) DecommissionTerminal(ctx context.Context, id string, at time.Time, reason string) (cloud.Terminal, error) {
	var t cloud.Terminal
	err := s.update(ctx, func(txn *badger.Txn) error {
		t = cloud.Terminal{}
		found, err := getJSON(txn, terminalKey(id), &t)
		if err != nil {
			return err
		} else if !found {
			return cloud.ErrNotFound("terminal", id)
		} else if t.Decommissioned() {
			return edge.Errorf(edge.ECONFLICT, "Terminal %q was decommissioned on %s.", id, t.DecommissionedAt.Format(time.RFC3339))
		}
		t.DecommissionedAt, t.DecommissionReason = at.UTC(), reason
		t.PasswordHash, t.Online = nil, false
		t.AckedSeq = 0
		if err := setJSON(txn, terminalKey(id), t); err != nil {
			return err
		}
		t.AckedSeq, err = watermark(txn, id)
		return err
	})
	if err != nil {
		return cloud.Terminal{}, fmt.Errorf("badgerstore: decommission terminal: %w", err)
	}
	return t, nil
}
