//! The isolation document's one inline module, linked from the isolation app's modules.
//!
//! The runtime and the modules it imports are ES modules as they are in the repository
//! (and as `isolation://localhost/__portcullis/…` serves them). Loaded one by one, each
//! took a round trip through the engine before the frame could answer its first call, so
//! the document runs them as one module instead: the pieces follow one another, in an
//! order where each comes after the pieces it imports, and each is left out of it only
//! its import declarations. Those are found by the parser, never by matching text, and
//! each must name a piece before it and import, under its own name, what that piece
//! exports: anything else is an error, so a linked script never keeps an import that
//! would fail at load, nor binds a name to another piece's declaration. Apart from those
//! declarations, every piece is its text as written.

use oxc_allocator::Allocator;
use oxc_ast::ast::{ImportDeclarationSpecifier, Statement};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType};
use oxc_syntax::module_record::ExportExportName;

/// One module of the linked script.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece<'t> {
    /// How the other pieces import it (`"./sealer.js"`).
    pub specifier: &'static str,
    /// Its source.
    pub text: &'t str,
}

/// The pieces as one module: each piece's text without its import declarations, in the
/// order given. Line ends are normalised as the HTML parser will see them (a checkout
/// with CRLF endings would otherwise hash differently from what the engine checks).
/// Fails, naming the piece, if a piece does not parse or imports anything but a name
/// another piece before it exports.
pub(crate) fn link(pieces: &[Piece<'_>]) -> Result<String, String> {
    let mut exports: Vec<(&str, Vec<String>)> = Vec::new();
    let mut script = String::new();
    for piece in pieces {
        let text = piece.text.replace("\r\n", "\n").replace('\r', "\n");
        let allocator = Allocator::default();
        let parsed = Parser::new(&allocator, &text, SourceType::mjs()).parse();
        if parsed.panicked || !parsed.errors.is_empty() {
            return Err(format!("{} does not parse", piece.specifier));
        }
        let mut cut = Vec::new();
        for statement in &parsed.program.body {
            let Statement::ImportDeclaration(import) = statement else {
                continue;
            };
            let from = import.source.value.as_str();
            let Some((_, exported)) = exports.iter().find(|(s, _)| *s == from) else {
                return Err(format!(
                    "{} imports {from}, which is not linked before it",
                    piece.specifier
                ));
            };
            for specifier in import.specifiers.iter().flatten() {
                let ImportDeclarationSpecifier::ImportSpecifier(named) = specifier else {
                    return Err(format!(
                        "{} imports {from} other than by name: a linked piece imports names",
                        piece.specifier
                    ));
                };
                let name = named.imported.name();
                if named.local.name != name || !exported.iter().any(|e| e == name.as_str()) {
                    return Err(format!(
                        "{} imports {name} from {from}, which does not export it under that name",
                        piece.specifier
                    ));
                }
            }
            cut.push(import.span());
        }
        let mut at = 0;
        for span in cut {
            script.push_str(&text[at..span.start as usize]);
            at = span.end as usize;
        }
        script.push_str(&text[at..]);
        script.push('\n');
        let names = parsed
            .module_record
            .local_export_entries
            .iter()
            .filter_map(|e| match &e.export_name {
                ExportExportName::Name(n) => Some(n.name.to_string()),
                _ => None,
            })
            .collect();
        exports.push((piece.specifier, names));
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(specifier: &'static str, text: &'static str) -> Piece<'static> {
        Piece { specifier, text }
    }

    #[test]
    fn a_piece_is_its_text_without_its_import_declarations() {
        let linked = link(&[
            piece("./a.js", "export const A = 1;\r\n"),
            piece(
                "./b.js",
                "import { A } from \"./a.js\";\n// import { B } from \"./a.js\";\nexport const B = A + 1;\n",
            ),
        ])
        .unwrap();
        assert_eq!(
            linked,
            "export const A = 1;\n\n\n// import { B } from \"./a.js\";\nexport const B = A + 1;\n\n"
        );
    }

    #[test]
    fn an_import_that_linking_cannot_honour_is_an_error() {
        let a = piece("./a.js", "export const A = 1;\nconst hidden = 2;\n");
        for (text, why) in [
            ("import { A } from \"./c.js\";", "not linked before it"),
            ("import { hidden } from \"./a.js\";", "does not export it"),
            ("import { A as B } from \"./a.js\";", "does not export it"),
            ("import A from \"./a.js\";", "other than by name"),
            ("import * as a from \"./a.js\";", "other than by name"),
            ("import { A } from ", "does not parse"),
        ] {
            let error = link(&[a, piece("./b.js", text)]).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
        // A piece imports only what comes before it.
        let error = link(&[piece("./b.js", "import { A } from \"./a.js\";"), a]).unwrap_err();
        assert!(error.contains("not linked before it"), "{error}");
    }
}
