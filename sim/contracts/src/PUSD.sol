// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Stand-in for Polymarket's pUSD collateral token (6 decimals).
/// @notice All state lives in plain storage slots and there is no constructor: the simulator
///         writes the runtime bytecode and these slots straight into the genesis state at the
///         production address. Keep the slot order in sync with chain/genesis.py (checked by the
///         storageLayout the build writes into the artifact).
contract PUSD {
    mapping(address => uint256) public balanceOf; // slot 0
    mapping(address => mapping(address => uint256)) public allowance; // slot 1
    uint256 public totalSupply; // slot 2
    mapping(address => bool) public isMinter; // slot 3
    mapping(address => bool) public isExchange; // slot 4

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    error NotMinter();
    error NotExchange();
    error BadMoves();
    error LengthMismatch();

    function name() external pure returns (string memory) {
        return "Polymarket USD";
    }

    function symbol() external pure returns (string memory) {
        return "pUSD";
    }

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "ERC20: insufficient allowance");
            allowance[from][msg.sender] = allowed - value;
        }
        _transfer(from, to, value);
        return true;
    }

    function mint(address to, uint256 value) external {
        if (!isMinter[msg.sender]) revert NotMinter();
        _mint(to, value);
    }

    /// @notice Many mints in one transaction: how the simulator mirrors deposits cheaply.
    function mintBatch(address[] calldata to, uint256[] calldata values) external {
        if (!isMinter[msg.sender]) revert NotMinter();
        if (to.length != values.length) revert LengthMismatch();
        for (uint256 i = 0; i < to.length; ++i) {
            _mint(to[i], values[i]);
        }
    }

    /// @notice `approvals: true` of the simulator's admin API: what the owner's own `approve` of
    ///         each spender for the maximum would do.
    function grantApprovals(address owner, address[] calldata spenders) external {
        if (!isMinter[msg.sender]) revert NotMinter();
        for (uint256 i = 0; i < spenders.length; ++i) {
            allowance[owner][spenders[i]] = type(uint256).max;
            emit Approval(owner, spenders[i], type(uint256).max);
        }
    }

    /// @notice Applies the collateral side of settled fills for an exchange.
    /// @param moves packed 64-byte records: (account as a word, signed delta as int256), at most
    ///        one per account (the simulator nets each block's fills per party first).
    /// @dev A debit larger than the balance takes only what is there instead of reverting: the
    ///      simulator's scripted market maker trades without holding pUSD, and one short party
    ///      must not revert a whole block of fills. totalSupply follows what actually moved.
    ///      Assembly because py-evm interprets every opcode: checked Solidity costs ~10x more.
    function settle(bytes calldata moves) external {
        if (!isExchange[msg.sender]) revert NotExchange();
        if (moves.length % 64 != 0) revert BadMoves();
        bytes32 transferTopic = Transfer.selector;
        assembly ("memory-safe") {
            let supply := sload(totalSupply.slot)
            let end := add(moves.offset, moves.length)
            for { let p := moves.offset } lt(p, end) { p := add(p, 64) } {
                let account := and(calldataload(p), 0xffffffffffffffffffffffffffffffffffffffff)
                let delta := calldataload(add(p, 32))
                mstore(0x00, account)
                mstore(0x20, balanceOf.slot)
                let slot := keccak256(0x00, 0x40)
                let have := sload(slot)
                switch slt(delta, 0)
                case 0 {
                    sstore(slot, add(have, delta))
                    supply := add(supply, delta)
                    mstore(0x00, delta)
                    log3(0x00, 0x20, transferTopic, caller(), account)
                }
                default {
                    let taken := sub(0, delta)
                    if gt(taken, have) { taken := have }
                    sstore(slot, sub(have, taken))
                    supply := sub(supply, taken)
                    mstore(0x00, taken)
                    log3(0x00, 0x20, transferTopic, account, caller())
                }
            }
            sstore(totalSupply.slot, supply)
        }
    }

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "ERC20: transfer to the zero address");
        uint256 have = balanceOf[from];
        require(have >= value, "ERC20: transfer amount exceeds balance");
        balanceOf[from] = have - value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }

    function _mint(address to, uint256 value) private {
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }
}
