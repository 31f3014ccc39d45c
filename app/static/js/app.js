/* placeholder: app */
