/* sw placeholder __ASSET_VERSION__ */ const SHELL = ["__SHELL_FILES__"];
