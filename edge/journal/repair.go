package journal

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// dropEmptyLogs removes the empty memtable write-ahead logs (*.mem) and
// value-log files (*.vlog) of the journal in dir. Badger creates such a file
// and sizes it, and a power cut before its first sync can leave it empty
// on disk; Badger then refuses to open (z.NewFile, dgraph-io/badger#2207),
// which would brick the counter. An empty file holds nothing, so removing
// it loses nothing; Badger makes a new one. TestPowerCut found it.
func dropEmptyLogs(dir string, logger *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("read dir: %w", err)
	}
	dropped := false
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".mem") && !strings.HasSuffix(name, ".vlog") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove empty %s: %w", name, err)
		}
		logger.Warn("journal: an empty log file left by a power cut was removed", "file", name)
		dropped = true
	}
	if dropped {
		return syncDir(dir)
	}
	return nil
}
