package journal

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// Encryption at rest is Badger's own: with Config.EncryptionKey, every file
// Badger writes (tables, value log, the memtables' write-ahead logs) is
// encrypted with AES in CTR mode under data keys that Badger draws at random
// and rotates every ten days (its default); the data keys are kept in its
// KEYREGISTRY file, encrypted with the key given here. Without that key a
// copy of the disk shows neither operations nor their keys (trackings are
// in keys), nor the staff's PIN hashes.
//
// A journal written in clear before a key was given is converted at the
// first Open with a key: every key and value is copied into a new encrypted
// journal beside it, compared with the original, and only then put in its
// place. The steps are ordered so that a crash or a power cut at any point
// leaves either the plain journal (the conversion starts over at the next
// Open) or the complete encrypted one:
//
//	1. copy into DIR.encrypting, sync it, close it, compare it;
//	2. write the marker DIR.encrypting.done (the copy is whole);
//	3. rename DIR to DIR.plain, then DIR.encrypting to DIR;
//	4. remove DIR.plain, then the marker.
//
// finishConversion, at every Open, carries out what step 3 and 4 left
// undone, or throws away a copy that has no marker.

// ErrKeyMismatch is returned by Open when the journal is encrypted with
// another key than the one given, or when it is encrypted and no key was
// given.
var ErrKeyMismatch = errors.New("the journal's encryption key does not match")

// KeySize is the length of an encryption key: 32 bytes, AES-256.
const KeySize = 32

func conversionPaths(dir string) (tmp, done, old string) {
	dir = filepath.Clean(dir)
	return dir + ".encrypting", dir + ".encrypting.done", dir + ".plain"
}

// finishConversion completes or abandons a conversion to encryption that a
// crash interrupted (see the steps above).
func finishConversion(dir string, logger *slog.Logger) error {
	tmp, done, old := conversionPaths(dir)
	if !exists(done) {
		if exists(tmp) {
			logger.Warn("journal: an interrupted conversion to encryption is started over", "dir", tmp)
			if err := os.RemoveAll(tmp); err != nil {
				return fmt.Errorf("remove unfinished encrypted copy: %w", err)
			}
		}
		return nil
	}
	if exists(tmp) {
		if exists(dir) {
			if err := os.Rename(dir, old); err != nil {
				return fmt.Errorf("move plain journal aside: %w", err)
			}
		}
		if err := os.Rename(tmp, dir); err != nil {
			return fmt.Errorf("put encrypted journal in place: %w", err)
		}
		if err := syncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	// The plain copy holds every tracking and PIN hash in clear: it goes
	// before the marker, so that a crash here removes it on the next Open.
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove plain journal: %w", err)
	}
	if err := os.Remove(done); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove conversion marker: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

// checkKey makes sure that opts' key opens the journal in dir before
// Badger opens it (a Badger that fails to open leaves goroutines behind):
// it converts a plain journal when a key is given, and returns
// ErrKeyMismatch when the journal is encrypted with another key or a key
// is needed and none was given. It reads Badger's KEYREGISTRY file, which
// starts with a text encrypted with the key; a new journal has none yet.
func checkKey(dir string, opts badger.Options, logger *slog.Logger) error {
	matches := func(key []byte) (bool, error) {
		_, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: key})
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			return false, nil
		}
		return err == nil, err
	}
	ok, err := matches(opts.EncryptionKey)
	if ok || err != nil {
		return err
	}
	if len(opts.EncryptionKey) == 0 {
		return fmt.Errorf("%w: it is encrypted and no key was given", ErrKeyMismatch)
	}
	if plain, err := matches(nil); err != nil {
		return err
	} else if !plain {
		return ErrKeyMismatch
	}
	return encryptPlain(dir, opts, logger)
}

// encryptPlain converts the plain journal in dir into an encrypted one with
// opts' key.
func encryptPlain(dir string, opts badger.Options, logger *slog.Logger) error {
	plain, err := badger.Open(opts.WithEncryptionKey(nil))
	if err != nil {
		return fmt.Errorf("open plain journal: %w", err)
	}
	tmp, done, _ := conversionPaths(dir)
	n, err := copyDB(plain, opts.WithDir(tmp).WithValueDir(tmp))
	if cerr := plain.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close plain journal: %w", cerr)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("encrypt journal: %w", err)
	}
	if err := writeSynced(done); err != nil {
		return fmt.Errorf("encrypt journal: %w", err)
	}
	if err := finishConversion(dir, logger); err != nil {
		return fmt.Errorf("encrypt journal: %w", err)
	}
	logger.Info("journal: converted to an encrypted journal", "keys", n)
	return nil
}

// copyDB copies every live key of src into a new database with opts, syncs
// and closes it, then reads both back side by side and fails on any
// difference, so that a conversion never drops or alters a record.
func copyDB(src *badger.DB, opts badger.Options) (int, error) {
	dst, err := badger.Open(opts)
	if err != nil {
		return 0, err
	}
	n, err := copyKeys(src, dst)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	dst, err = badger.Open(opts)
	if err != nil {
		return 0, fmt.Errorf("reopen encrypted copy: %w", err)
	}
	err = sameKeys(src, dst)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func copyKeys(src, dst *badger.DB) (int, error) {
	wb := dst.NewWriteBatch()
	defer wb.Cancel()
	n := 0
	err := src.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			e := badger.NewEntry(item.KeyCopy(nil), v).WithMeta(item.UserMeta())
			e.ExpiresAt = item.ExpiresAt()
			if err := wb.SetEntry(e); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, wb.Flush()
}

// sameKeys fails unless a and b hold the same keys with the same values.
func sameKeys(a, b *badger.DB) error {
	return a.View(func(ta *badger.Txn) error {
		return b.View(func(tb *badger.Txn) error {
			ia := ta.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64})
			defer ia.Close()
			ib := tb.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 64})
			defer ib.Close()
			ia.Rewind()
			ib.Rewind()
			for ; ia.Valid() && ib.Valid(); ia.Next() {
				if !bytes.Equal(ia.Item().Key(), ib.Item().Key()) {
					return fmt.Errorf("encrypted copy differs at key %d bytes long", len(ia.Item().Key()))
				}
				va, err := ia.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				vb, err := ib.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				if !bytes.Equal(va, vb) {
					return fmt.Errorf("encrypted copy has another value for a key")
				}
				ib.Next()
			}
			if ia.Valid() || ib.Valid() {
				return fmt.Errorf("encrypted copy has a different number of keys")
			}
			return nil
		})
	})
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeSynced creates an empty file and syncs it and its directory.
func writeSynced(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
