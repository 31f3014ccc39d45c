/* placeholder: sync */
