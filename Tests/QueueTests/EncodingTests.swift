import JSONText
import Queue
import Testing

@Suite struct JSONValueTests {
    @Test func parsesAndCanonicalises() throws {
        let value = try JSONValue(parsing: #" { "b": [1, 2.5, -3e2, true, null], "a": "x\"\u00e9\n" } "#)
        #expect(value.canonicalText == #"{"a":"x\"é\n","b":[1,2.5,-300,true,null]}"#)
        #expect(try JSONValue(parsing: value.canonicalText) == value)
    }

    @Test func keepsIntegersApartFromReals() throws {
        #expect(try JSONValue(parsing: "5") == .integer(5))
        guard case .real(2.5) = try JSONValue(parsing: "2.5") else { Issue.record("2.5"); return }
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9, "expected a quoted key"),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ',' or '}'"),
        ("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key \"a\""),
        ("[01]", 1, 2, "leading zero"),
        ("\"abc", 1, 5, "unterminated string"),
        ("{} x", 1, 4, "unexpected text after"),
        ("", 1, 1, "unexpected end of input"),
    ])
    func syntaxErrorsSayWhere(text: String, line: Int, column: Int, message: String) {
        #expect {
            _ = try JSONValue(parsing: text)
        } throws: { error in
            guard let error = error as? JSONValue.SyntaxError else { return false }
            return error.line == line && error.column == column && error.message.contains(message)
        }
    }

    @Test func differencesNameThePaths() throws {
        let old = try JSONValue(parsing: #"{"data": {"train_count": 100, "source": "x"}, "queue": {"max_attempts": 3}}"#)
        let new = try JSONValue(parsing: #"{"data": {"train_count": 50, "source": "x"}, "campaign": {"seed": 1}}"#)
        let changes = new.differences(from: old).map { "\($0.path): \($0.old) -> \($0.new)" }
        #expect(changes == ["campaign: (absent) -> {\"seed\":1}", "data.train_count: 100 -> 50",
                            "queue: {\"max_attempts\":3} -> (absent)"])
    }
}
