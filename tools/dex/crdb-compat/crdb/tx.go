// Package crdb stands in for the cockroach-go helper that Dex v2.13 was written against: the
// one function Dex's SQL storage calls, with the signature it expects. The test Dex uses
// in-memory storage, so retrying CockroachDB serialization failures is not needed here.
package crdb

import "database/sql"

// ExecuteTx runs fn in a transaction and commits it, or rolls it back when fn fails.
func ExecuteTx(db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
