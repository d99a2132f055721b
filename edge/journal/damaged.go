package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A terminal whose journal no longer opens must still take deposits (a
// counter that refuses to start is a shop that cannot work): the damaged
// journal is moved aside, never deleted, so that what it holds can be
// recovered by hand, and a new journal is started in its place. Its seqs
// must stay above every seq the cloud may hold of this terminal, which the
// damaged journal can no longer tell: the journal keeps that bound in a
// small file beside itself (DIR.seq, the seq mark), raised ahead of the
// seqs it hands out, and a new journal starts above it.

// ErrDamaged is returned by Open when the journal's files cannot be opened
// or read (Badger refuses them, or panics on them): not a lock held by
// another process, nor a wrong key, which say nothing of the files.
var ErrDamaged = errors.New("journal damaged")

// seqReserve is how far the seq mark is raised ahead of the last seq: the
// mark is rewritten once every seqReserve/2 operations.
const seqReserve = 10_000

func seqMarkPath(dir string) string { return filepath.Clean(dir) + ".seq" }

// readSeqMark returns the seq mark kept beside dir, 0 when there is none.
func readSeqMark(dir string) (uint64, error) {
	b, err := os.ReadFile(seqMarkPath(dir))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("seq mark: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seq mark %s: %w", seqMarkPath(dir), err)
	}
	return n, nil
}

// writeSeqMark durably replaces the seq mark beside dir with mark.
func writeSeqMark(dir string, mark uint64) error {
	path := seqMarkPath(dir)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("seq mark: %w", err)
	}
	_, err = f.WriteString(strconv.FormatUint(mark, 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("seq mark: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// raiseSeqMark makes sure the seq mark is above seq, rewriting it
// seqReserve ahead when it is not. Only the writer (and Open, before the
// writer starts) calls it: an operation is published to readers, the
// uplink among them, only once the mark is above its seq.
func (j *Journal) raiseSeqMark(seq uint64) error {
	if seq <= j.seqMark {
		return nil
	}
	mark := seq + seqReserve
	if err := writeSeqMark(j.dir, mark); err != nil {
		return err
	}
	j.seqMark = mark
	return nil
}

// MoveAside renames the journal in dir to DIR.damaged-<time> (UTC) and
// returns that path. Nothing is deleted.
func MoveAside(dir string, now time.Time) (string, error) {
	aside := filepath.Clean(dir) + ".damaged-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(dir, aside); err != nil {
		return "", fmt.Errorf("journal move aside: %w", err)
	}
	if err := syncDir(filepath.Dir(aside)); err != nil {
		return "", fmt.Errorf("journal move aside: %w", err)
	}
	return aside, nil
}

// OpenRecovering opens the journal in dir like Open; when it is damaged
// (ErrDamaged), it moves it aside (MoveAside), starts a new one above the
// seq mark and returns, with it, where the damaged one was kept and why it
// did not open. Any other error of Open is returned as is.
func OpenRecovering(dir string, cfg Config) (j *Journal, aside string, damage error, err error) {
	j, damage = Open(dir, cfg)
	if !errors.Is(damage, ErrDamaged) {
		return j, "", nil, damage
	}
	if aside, err = MoveAside(dir, time.Now()); err != nil {
		return nil, "", damage, fmt.Errorf("%w (moving aside a journal that did not open: %w)", err, damage)
	}
	j, err = Open(dir, cfg)
	return j, aside, damage, err
}

// openBadger is badger.Open, with a panic of Badger on damaged files (seen
// after power failures: dgraph-io/badger#1846, #1883) turned into an error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("badger panicked: %v", p)
		}
	}()
	return badger.Open(opts)
}

// startAboveSeqMark reads the seq mark: a new journal (a damaged one was
// moved aside) starts above it; an existing one raises it above its last
// seq if a crash came between a batch and the mark.
func (j *Journal) startAboveSeqMark() error {
	mark, err := readSeqMark(j.dir)
	if err != nil {
		return err
	}
	j.seqMark = mark
	if j.LastSeq() == 0 && mark > 0 {
		j.logger.Warn("journal: new journal numbered above the seq mark of the one before it", "seq_mark", mark)
		return j.SeqFloor(mark)
	}
	return j.raiseSeqMark(j.LastSeq())
}
