/// Shape arithmetic shared by all kernels. Shapes are row-major, outermost first.
public enum Shape {
    /// Number of elements of a shape (1 for rank 0).
    @inline(__always)
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides of a contiguous array of this shape.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// NumPy-style broadcast of two shapes (right-aligned; a size-1 axis stretches).
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            require(da == db || da == 1 || db == 1,
                         "shapes \(a) and \(b) do not broadcast (axis \(i): \(da) vs \(db))")
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Strides for reading an array of `shape` as if broadcast to `target`
    /// (0 along stretched or missing axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        require(shape.count <= target.count, "cannot broadcast shape \(shape) to \(target)")
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            guard i >= offset else { return 0 }
            let d = shape[i - offset]
            require(d == target[i] || d == 1, "cannot broadcast shape \(shape) to \(target)")
            return d == 1 && target[i] != 1 ? 0 : own[i - offset]
        }
    }

    /// The same iteration with fewer, longer axes: size-1 axes dropped, and an
    /// axis merged into the next inner one wherever every operand steps over
    /// both as over one (stride = inner stride × inner size). A [N,C,H,W] ⊕
    /// [1,C,1,1] broadcast becomes rows of H·W; `strides[k]` are operand k's.
    public static func coalesced(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var outShape: [Int] = []
        var outStrides = [[Int]](repeating: [], count: strides.count)
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if let inner = outShape.last,
               strides.indices.allSatisfy({ strides[$0][axis] == outStrides[$0].last! * inner }) {
                outShape[outShape.count - 1] *= shape[axis]
            } else {
                outShape.append(shape[axis])
                for k in strides.indices { outStrides[k].append(strides[k][axis]) }
            }
        }
        if outShape.isEmpty { return ([1], strides.map { _ in [0] }) }
        return (outShape.reversed(), outStrides.map { $0.reversed() })
    }

    /// Normalises an axis that may be negative (-1 = last).
    @inline(__always)
    public static func axis(_ axis: Int, rank: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        require(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank)")
        return a
    }
}

/// Calls `body(offsets)` once per innermost row of `shape` numbered in `rows`
/// (row-major; default all), where `offsets[k]` is the flat offset of the
/// row's first element in operand k (given by `strides[k]`). The row has
/// `shape.last` elements, stepping `strides[k].last`.
@inline(__always)
func forEachRow(shape: [Int], strides: [[Int]], rows: Range<Int>? = nil,
                _ body: (UnsafeMutableBufferPointer<Int>) -> Void) {
    let operands = strides.count
    let rank = shape.count
    let rows = rows ?? 0..<rowCount(shape)
    if rows.isEmpty || Shape.count(shape) == 0 { return }
    var offsets = [Int](repeating: 0, count: operands)
    if rank <= 1 {
        offsets.withUnsafeMutableBufferPointer { body($0) }
        return
    }
    // The multi-index over all axes but the last of the first row, and its offsets.
    var index = [Int](repeating: 0, count: rank - 1)
    var rest = rows.lowerBound
    for axis in stride(from: rank - 2, through: 0, by: -1) {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
        for k in 0..<operands { offsets[k] += index[axis] * strides[k][axis] }
    }
    offsets.withUnsafeMutableBufferPointer { off in
        for _ in rows {
            body(off)
            // Increment the multi-index over all axes but the last.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                for k in 0..<operands { off[k] += strides[k][axis] }
                if index[axis] < shape[axis] { break }
                for k in 0..<operands { off[k] -= strides[k][axis] * shape[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// How many innermost rows `forEachRow` visits for `shape` (1 for rank ≤ 1).
func rowCount(_ shape: [Int]) -> Int { shape.count <= 1 ? 1 : Shape.count(Array(shape.dropLast())) }

/// `forEachRow` over all rows, split into contiguous row ranges over the
/// workers (`parallelRanges`). Rows must write disjoint outputs.
func parallelForEachRow(shape: [Int], strides: [[Int]], _ body: @Sendable (UnsafeMutableBufferPointer<Int>) -> Void) {
    parallelRanges(rowCount(shape), itemSize: shape.last ?? 1) { rows in
        forEachRow(shape: shape, strides: strides, rows: rows, body)
    }
}
