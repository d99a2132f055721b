//go:build unix

package journal

import (
	"os"
	"syscall"
)

// allocated returns the bytes fi's file takes on disk: its allocated blocks.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
