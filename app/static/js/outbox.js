/* placeholder: outbox */
