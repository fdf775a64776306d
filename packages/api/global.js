// `import "@portcullis/api/global"` for its types: the global itself is installed by
// portcullis-wry before any page script runs, so this module has nothing to do.
export {};
