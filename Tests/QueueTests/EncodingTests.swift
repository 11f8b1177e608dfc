import Queue
import Testing

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownDigests(input: String, digest: String) {
        #expect(SHA256.hex(input) == digest)
    }

    @Test func millionAs() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

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
